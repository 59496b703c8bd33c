//! state-on-shutdown's service in Rust, the Node child's protocol: counts
//! increments sent over a unix socket (`inc ID` -> `ok ID`), keeps its state
//! (every increment applied) in memory, and meets SIGTERM by ROLE:
//!
//!     service ROLE --socket PATH --state FILE
//!
//! - no-persistence: no handler; the default action ends it, nothing written;
//! - racy-snapshot: snapshots the state, then writes it in a write that takes
//!   WRITE_MS (and until one increment was acknowledged after the snapshot)
//!   while connections are still served and acknowledged: those increments
//!   are in no file, and it exits 0;
//! - correct: closes the gate under the lock the connections apply under (no
//!   increment is acknowledged after the snapshot), then writes FILE.tmp,
//!   fsyncs it and renames it over FILE, exit 0.
//!
//! One thread (a current-thread runtime): the racy role's write is a sleep on
//! that runtime, so the connections go on being served during it.
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{signal, SignalKind};

/// How long the racy role's write takes after its snapshot (a slow disk, a remote store).
const WRITE_MS: u64 = 50;
/// The racy write also lasts until one increment was acknowledged after its
/// snapshot, up to this long: on a starved machine no client may get to send
/// in WRITE_MS, and a race nobody crossed shows nothing. Well under the
/// harness's default grace (2 s), after which it would be SIGKILLed.
const WRITE_UNTIL_CROSSED_MS: u128 = 1000;

struct State {
    applied: Vec<String>,
    open: bool,
}

fn flag(args: &[String], name: &str) -> String {
    let key = format!("--{}", name);
    match args.iter().position(|a| *a == key).and_then(|i| args.get(i + 1)) {
        Some(value) => value.clone(),
        None => {
            eprintln!("service: --{} is required", name);
            std::process::exit(2);
        }
    }
}

fn persist(path: &str, snapshot: &[String]) -> std::io::Result<()> {
    let tmp = format!("{}.tmp", path);
    let ids: Vec<String> = snapshot.iter().map(|id| format!("\"{}\"", id)).collect();
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(format!("{{\"total\":{},\"applied\":[{}]}}", snapshot.len(), ids.join(",")).as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

fn persist_and_exit(path: &str, snapshot: &[String]) -> ! {
    match persist(path, snapshot) {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("service: writing {}: {}", path, error);
            std::process::exit(1);
        }
    }
}

async fn serve(stream: UnixStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut words = line.splitn(2, ' ');
        if words.next() != Some("inc") {
            continue;
        }
        // Only digits: the id goes into the state file's JSON as it is.
        let id = match words.next() {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => id.to_string(),
            _ => continue,
        };
        let applied = {
            let mut s = state.lock().unwrap();
            if s.open {
                s.applied.push(id.clone());
            }
            s.open
        };
        if applied && write.write_all(format!("ok {}\n", id).as_bytes()).await.is_err() {
            return;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let role = args.get(1).cloned().unwrap_or_else(|| "correct".to_string());
    let socket = flag(&args, "socket");
    let state_path = flag(&args, "state");
    // Gone with the harness that started it, as the Node child is (its stdin closing).
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let state = Arc::new(Mutex::new(State { applied: Vec::new(), open: true }));
    let listener = UnixListener::bind(&socket).unwrap_or_else(|error| {
        eprintln!("service: binding {}: {}", socket, error);
        std::process::exit(1);
    });
    if role != "no-persistence" {
        // Registered before `ready`: a SIGTERM right after it finds the handler.
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        let state = state.clone();
        let racy = role == "racy-snapshot";
        tokio::spawn(async move {
            term.recv().await;
            if racy {
                let snapshot = state.lock().unwrap().applied.clone();
                let started = std::time::Instant::now();
                tokio::time::sleep(Duration::from_millis(WRITE_MS)).await;
                while state.lock().unwrap().applied.len() == snapshot.len() && started.elapsed().as_millis() < WRITE_UNTIL_CROSSED_MS {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                persist_and_exit(&state_path, &snapshot);
            }
            let snapshot = {
                let mut s = state.lock().unwrap();
                s.open = false;
                s.applied.clone()
            };
            persist_and_exit(&state_path, &snapshot);
        });
    }
    println!(
        "{{\"event\":\"ready\",\"pid\":{},\"scenario\":\"state-on-shutdown\",\"pattern\":\"{}\",\"runtime\":\"rust\"}}",
        std::process::id(),
        role
    );
    let _ = std::io::stdout().flush();
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, state.clone()));
        }
    }
}
