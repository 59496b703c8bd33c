//! The correct pattern: ONE `signal(SignalKind::hangup())` per process, owned by
//! a hub task that fans each SIGHUP out through `tokio::sync::broadcast`. The
//! reload code is the same shape as the broken one (it even re-subscribes on
//! every reload), but a subscription is a broadcast receiver: no new
//! registration, no new fd. A second subscriber (log reopen) shows the fan-out.
//! On SIGTERM/SIGINT, `SignalGuard::shutdown()` (the write-up's suggestion)
//! stops the hub, drops every stream and receiver, and the runtime is dropped
//! with it; what is closed and what is left is measured from /proc/self/fd.
//! Tokio's one process-wide signal socketpair is static: it stays until exit.

use repro_sighup_listener::{emit, exit_when_parent_goes, fds_beyond_stdio, runtime, Event, TOKIO_VERSION};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinHandle;

/// Signal streams this process has registered (SIGHUP, SIGTERM, SIGINT: one each).
static STREAMS: AtomicU64 = AtomicU64::new(0);
/// SIGHUP streams among them: what `listeners` reports.
static SIGHUP_STREAMS: AtomicU64 = AtomicU64::new(0);
/// Signals the log-reopen subscriber has received.
static REOPENED: AtomicU64 = AtomicU64::new(0);

/// One signal stream per signal per process; subscribers share it through a broadcast channel.
struct SignalGuard {
    hangup: broadcast::Sender<()>,
    tasks: Vec<JoinHandle<()>>,
}

/// What `shutdown()` let go of.
struct Released {
    streams: u64,
}

impl SignalGuard {
    /// Registers SIGHUP once, and SIGTERM/SIGINT to wake `stop`.
    fn start(stop: Arc<Notify>) -> std::io::Result<SignalGuard> {
        let (hangup, _) = broadcast::channel(16);
        let mut tasks = Vec::new();
        let mut hup = signal(SignalKind::hangup())?;
        STREAMS.fetch_add(1, Ordering::SeqCst);
        SIGHUP_STREAMS.fetch_add(1, Ordering::SeqCst);
        let fan_out = hangup.clone();
        tasks.push(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                // No subscriber is not an error: the signal is simply not for anyone now.
                let _ = fan_out.send(());
            }
        }));
        for kind in [SignalKind::terminate(), SignalKind::interrupt()] {
            let mut stream = signal(kind)?;
            STREAMS.fetch_add(1, Ordering::SeqCst);
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                if stream.recv().await.is_some() {
                    stop.notify_one();
                }
            }));
        }
        Ok(SignalGuard { hangup, tasks })
    }

    fn subscribe(&self) -> broadcast::Receiver<()> {
        self.hangup.subscribe()
    }

    fn subscribers(&self) -> u64 {
        self.hangup.receiver_count() as u64
    }

    /// Stops every task (dropping the streams they own) and closes the channel, so every
    /// subscriber sees `Closed` and ends.
    async fn shutdown(self) -> Released {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
        drop(self.hangup);
        let streams = STREAMS.swap(0, Ordering::SeqCst);
        SIGHUP_STREAMS.store(0, Ordering::SeqCst);
        Released { streams }
    }
}

/// The reload subscriber: on each SIGHUP, reload, re-subscribe (harmless), report.
fn reload_subscriber(guard: Arc<SignalGuard>, mut receiver: broadcast::Receiver<()>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seq = 0u64;
        loop {
            match receiver.recv().await {
                Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
            seq += 1;
            // Let the other subscriber of the same signal run first, so fannedOut counts this one.
            tokio::task::yield_now().await;
            // Subscribe first, then drop the old receiver.
            let next = guard.subscribe();
            drop(std::mem::replace(&mut receiver, next));
            emit(&Event::Reload {
                seq,
                listeners: SIGHUP_STREAMS.load(Ordering::SeqCst),
                subscribers: Some(guard.subscribers()),
                fanned_out: Some(REOPENED.load(Ordering::SeqCst)),
            });
        }
    })
}

/// A second subscriber of the same signal, as a real service has: the log reopen.
fn log_reopen_subscriber(mut receiver: broadcast::Receiver<()>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !matches!(receiver.recv().await, Err(broadcast::error::RecvError::Closed)) {
            REOPENED.fetch_add(1, Ordering::SeqCst);
        }
    })
}

async fn serve() -> std::io::Result<(u64, Released)> {
    let stop = Arc::new(Notify::new());
    let guard = Arc::new(SignalGuard::start(stop.clone())?);
    let reopen = log_reopen_subscriber(guard.subscribe());
    let reload = reload_subscriber(guard.clone(), guard.subscribe());
    let runtime = runtime("tokio", TOKIO_VERSION);
    emit(&Event::Ready { pattern: "correct", runtime: &runtime, listeners: SIGHUP_STREAMS.load(Ordering::SeqCst) });

    stop.notified().await;
    let held_before = fds_beyond_stdio();
    reload.abort();
    let _ = reload.await;
    let guard = match Arc::try_unwrap(guard) {
        Ok(guard) => guard,
        Err(_) => unreachable!("the reload subscriber, the only other owner, has ended"),
    };
    let released = guard.shutdown().await;
    // The channel is closed now: the log-reopen subscriber sees it and ends.
    let _ = reopen.await;
    Ok((held_before, released))
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
    match rt.block_on(serve()) {
        Ok((held_before, released)) => {
            // The runtime owns the epoll fd, its waker and its end of the signal socketpair.
            drop(rt);
            let left = fds_beyond_stdio();
            emit(&Event::Shutdown {
                closed_fds: held_before.saturating_sub(left),
                removed_listeners: released.streams,
                leaked_fds: left,
            });
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("cannot register signal: {e}");
            std::process::exit(1);
        }
    }
}
