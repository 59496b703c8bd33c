//! The original write-up's code, literally: every reload calls
//! `tokio::signal::unix::signal(SignalKind::hangup())` and hands the stream to a
//! spawned task that holds it forever. The write-up said this leaks fds. In
//! Tokio 1.x it does not: Tokio registers ONE process-wide UnixStream pair
//! through signal_hook_registry, and each `signal()` only adds a watch receiver
//! to it. What grows instead is the number of live streams (each woken on every
//! SIGHUP), the tasks holding them, and memory. `listeners` reports the live
//! streams, counted as they are created and dropped.

use repro_sighup_listener::{emit, errno_name, exit_when_parent_goes, fds_beyond_stdio, runtime, Event, TOKIO_VERSION};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::signal::unix::{signal, Signal, SignalKind};

/// Live SIGHUP streams: the one the reload loop waits on and every one handed to a task.
static LISTENERS: AtomicU64 = AtomicU64::new(0);

/// A SIGHUP stream that counts itself in `LISTENERS` while it lives.
struct Listener(Signal);

impl Listener {
    fn register() -> std::io::Result<Listener> {
        let stream = signal(SignalKind::hangup())?;
        LISTENERS.fetch_add(1, Ordering::SeqCst);
        Ok(Listener(stream))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        LISTENERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The write-up's reload step: a fresh SIGHUP stream, handed to a task that holds it forever
/// (and is woken by every later SIGHUP, doing nothing with it).
fn hand_to_task(mut held: Listener) {
    tokio::spawn(async move {
        while held.0.recv().await.is_some() {}
    });
}

/// SIGTERM/SIGINT: say what is still held and leave; nothing is released.
fn on_termination(kind: SignalKind) -> std::io::Result<()> {
    let mut stream = signal(kind)?;
    tokio::spawn(async move {
        if stream.recv().await.is_some() {
            emit(&Event::Shutdown { closed_fds: 0, removed_listeners: 0, leaked_fds: fds_beyond_stdio() });
            eprintln!("exiting with {} SIGHUP streams still held by tasks", LISTENERS.load(Ordering::SeqCst));
            std::process::exit(0);
        }
    });
    Ok(())
}

async fn serve() -> std::io::Result<()> {
    on_termination(SignalKind::terminate())?;
    on_termination(SignalKind::interrupt())?;
    let mut current = Listener::register()?;
    let runtime = runtime("tokio", TOKIO_VERSION);
    emit(&Event::Ready { pattern: "tokio-per-reload", runtime: &runtime, listeners: LISTENERS.load(Ordering::SeqCst) });
    let mut seq = 0u64;
    while current.0.recv().await.is_some() {
        seq += 1;
        match Listener::register() {
            Ok(next) => {
                hand_to_task(std::mem::replace(&mut current, next));
                emit(&Event::Reload { seq, listeners: LISTENERS.load(Ordering::SeqCst), subscribers: None, fanned_out: None });
            }
            Err(e) => {
                let message = format!("cannot register signal: {e}");
                emit(&Event::RegisterFailed { seq, code: &errno_name(&e), message: &message });
                eprintln!("{message}");
                hand_to_task(current);
                loop {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    Ok(())
}

fn main() {
    exit_when_parent_goes();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the Tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(serve()) {
        eprintln!("cannot register signal: {e}");
        std::process::exit(1);
    }
}
