//! What the three Rust children share: speaking repro's NDJSON protocol
//! (docs/protocol.md), leaving with the parent, and counting the fds they hold.
//! JSON is written by hand: four flat events do not need serde.

use std::fmt::Write as _;
use std::io::{Read, Write};

pub const SCENARIO: &str = "sighup-listener";
/// Both signal-hook's `Signals` and Tokio's signal driver wake up through a UnixStream pair.
pub const CHANNEL: &str = "socketpair";

/// One protocol event; optional fields are left out when `None`.
pub enum Event<'a> {
    Ready { pattern: &'a str, runtime: &'a str, listeners: u64 },
    Reload { seq: u64, listeners: u64, subscribers: Option<u64>, fanned_out: Option<u64> },
    RegisterFailed { seq: u64, code: &'a str, message: &'a str },
    Shutdown { closed_fds: u64, removed_listeners: u64, leaked_fds: u64 },
}

fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Event<'_> {
    /// The event as one JSON line, newline included.
    pub fn to_line(&self) -> String {
        let mut s = String::with_capacity(128);
        match self {
            Event::Ready { pattern, runtime, listeners } => {
                let _ = write!(s, "{{\"event\":\"ready\",\"pid\":{},\"scenario\":", std::process::id());
                json_string(&mut s, SCENARIO);
                s.push_str(",\"pattern\":");
                json_string(&mut s, pattern);
                s.push_str(",\"runtime\":");
                json_string(&mut s, runtime);
                s.push_str(",\"channel\":");
                json_string(&mut s, CHANNEL);
                let _ = write!(s, ",\"listeners\":{listeners}}}");
            }
            Event::Reload { seq, listeners, subscribers, fanned_out } => {
                let _ = write!(s, "{{\"event\":\"reload\",\"seq\":{seq},\"listeners\":{listeners}");
                if let Some(n) = subscribers {
                    let _ = write!(s, ",\"subscribers\":{n}");
                }
                if let Some(n) = fanned_out {
                    let _ = write!(s, ",\"fannedOut\":{n}");
                }
                s.push('}');
            }
            Event::RegisterFailed { seq, code, message } => {
                let _ = write!(s, "{{\"event\":\"register-failed\",\"seq\":{seq},\"code\":");
                json_string(&mut s, code);
                s.push_str(",\"message\":");
                json_string(&mut s, message);
                s.push('}');
            }
            Event::Shutdown { closed_fds, removed_listeners, leaked_fds } => {
                let _ = write!(
                    s,
                    "{{\"event\":\"shutdown\",\"closedFds\":{closed_fds},\"removedListeners\":{removed_listeners},\"leakedFds\":{leaked_fds}}}"
                );
            }
        }
        s.push('\n');
        s
    }
}

/// Writes one event in one write and flushes. If stdout is gone, so is the harness: leave.
pub fn emit(event: &Event) {
    let line = event.to_line();
    let mut out = std::io::stdout().lock();
    if out.write_all(line.as_bytes()).and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// `rust 1.95.0, tokio 1.24.2`: the compiler and the crate that matters, as the build resolved them.
pub fn runtime(crate_name: &str, crate_version: &str) -> String {
    format!("rust {}, {crate_name} {crate_version}", env!("REPRO_RUSTC_VERSION"))
}

pub const TOKIO_VERSION: &str = env!("REPRO_TOKIO_VERSION");
pub const SIGNAL_HOOK_VERSION: &str = env!("REPRO_SIGNAL_HOOK_VERSION");

/// The errno name for the few errors registering a listener can hit.
pub fn errno_name(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::EMFILE) => "EMFILE".into(),
        Some(libc::ENFILE) => "ENFILE".into(),
        Some(libc::ENOMEM) => "ENOMEM".into(),
        Some(libc::ENOBUFS) => "ENOBUFS".into(),
        Some(n) => format!("E{n}"),
        None => format!("{:?}", error.kind()),
    }
}

/// The harness holds our stdin open (a pipe or a socketpair): end of file means it is gone,
/// even after a SIGKILL that left it no time to clean up. A terminal or /dev/null is no such
/// link, so it is not watched. The watcher is a plain thread: it costs no fd.
pub fn exit_when_parent_goes() {
    // SAFETY: fstat on fd 0 with a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(0, &mut st) } != 0 {
        return;
    }
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFIFO && kind != libc::S_IFSOCK {
        return;
    }
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 256];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
}

/// fds open beyond stdin/stdout/stderr, from /proc/self/fd (0 where there is no procfs).
/// Used for the `shutdown` event: what is still held, measured, not assumed.
pub fn fds_beyond_stdio() -> u64 {
    let dir = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir,
        Err(_) => return 0,
    };
    let fds: Vec<i32> = dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
    // read_dir holds one fd of its own while listing: it is in the list, and closed now.
    let beyond = fds.iter().filter(|&&fd| fd > 2).count() as u64;
    beyond.saturating_sub(1)
}
