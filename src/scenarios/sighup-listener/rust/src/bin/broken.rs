//! The broken pattern, as the original service had it: every SIGHUP reload
//! creates a new `signal_hook::iterator::Signals` for SIGHUP and keeps the old
//! one, never closed. Each `Signals` owns a UnixStream pair (+2 fds) and stays
//! registered with signal-hook-registry, so the abandoned ones keep getting a
//! byte per signal that nobody reads. At the fd limit `Signals::new` fails with
//! EMFILE; the service logged "cannot register signal: Too many open files (os
//! error 24)" and from then on nothing listens: later SIGHUPs reload nothing.

use repro_sighup_listener::{emit, errno_name, exit_when_parent_goes, fds_beyond_stdio, runtime, Event, SIGNAL_HOOK_VERSION};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live `Signals` registered for SIGHUP (the current one and every abandoned one).
static LISTENERS: AtomicU64 = AtomicU64::new(0);

fn create_listener() -> std::io::Result<Signals> {
    let signals = Signals::new([SIGHUP])?;
    LISTENERS.fetch_add(1, Ordering::SeqCst);
    Ok(signals)
}

/// SIGTERM/SIGINT: say what is still held and leave. Nothing is released: the
/// abandoned listeners were never tracked for closing.
fn on_termination() -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            emit(&Event::Shutdown { closed_fds: 0, removed_listeners: 0, leaked_fds: fds_beyond_stdio() });
            eprintln!("exiting with {} SIGHUP listeners never closed", LISTENERS.load(Ordering::SeqCst));
            std::process::exit(0);
        }
    });
    Ok(())
}

fn main() {
    exit_when_parent_goes();
    if let Err(e) = on_termination() {
        eprintln!("cannot register signal: {e}");
        std::process::exit(1);
    }
    let mut current = match create_listener() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("cannot register signal: {e}");
            std::process::exit(1);
        }
    };
    let runtime = runtime("signal-hook", SIGNAL_HOOK_VERSION);
    emit(&Event::Ready { pattern: "broken", runtime: &runtime, listeners: LISTENERS.load(Ordering::SeqCst) });

    let mut abandoned: Vec<Signals> = Vec::new();
    let mut seq = 0u64;
    loop {
        // Blocks until the current listener's stream has a byte; one reload per wake-up.
        if current.wait().count() == 0 {
            continue;
        }
        seq += 1;
        match create_listener() {
            Ok(next) => {
                // The bug: the old listener is dropped on the floor, still registered, fds still open.
                abandoned.push(std::mem::replace(&mut current, next));
                emit(&Event::Reload { seq, listeners: LISTENERS.load(Ordering::SeqCst), subscribers: None, fanned_out: None });
            }
            Err(e) => {
                let message = format!("cannot register signal: {e}");
                emit(&Event::RegisterFailed { seq, code: &errno_name(&e), message: &message });
                eprintln!("{message}");
                // The reload task ends here, as the service's did: the handlers stay installed
                // (SIGHUP no longer kills the process) but nothing reads any of them.
                abandoned.push(current);
                loop {
                    std::thread::park();
                }
            }
        }
    }
}
