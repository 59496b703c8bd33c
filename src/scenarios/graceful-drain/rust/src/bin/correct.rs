//! graceful-drain, correct, in the shape the Tokio graceful-shutdown guide teaches: a
//! `CancellationToken` tells the accept loop that shutdown has begun, and a `JoinSet` holds
//! every connection task so the drain can wait for them. On SIGTERM (or SIGINT):
//! 1. readiness answers 503 at once, and every request from now on is answered with
//!    `Connection: close` (hyper closes the connection after it);
//! 2. the listener stays open through `--lag` ms (the load balancer still routes here), then
//!    the connections already in the kernel's accept queue are taken and the listener closes;
//! 3. idle keep-alive connections are closed (hyper's graceful shutdown of an idle connection),
//!    but only once idle for `IDLE`: a client told "keep-alive" just before the signal may send
//!    its next request right after the body;
//! 4. in-flight requests finish; past `--grace` ms what is left is cut and the exit code is 1;
//! 5. resources are released in reverse order of registration (a `cleanup` event each), exit 0.
//! A second SIGTERM/SIGINT exits at once (143/130).
use std::fs::File;
use std::time::Duration;

use repro_graceful_drain::{exit_when_parent_goes, ms_flag, runtime, Server, Signals};
use tokio::task::JoinSet;
use tokio::time::{interval, sleep_until, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

/// A connection with no request for this long is idle and closed during the drain; checked every SWEEP.
const IDLE: Duration = Duration::from_millis(100);
const SWEEP: Duration = Duration::from_millis(20);

/// Something the service holds and must give back on the way out.
enum Resource {
    File(File),
    Task(tokio::task::JoinHandle<()>),
}

fn background() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let mut tick = interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
        }
    })
}

fn main() {
    exit_when_parent_goes();
    let lag = ms_flag("lag", 500);
    let grace = ms_flag("grace", 5000);
    runtime().block_on(run(lag, grace));
}

async fn run(lag: Duration, grace: Duration) {
    let server = Server::with_stalled_close(Some(Duration::from_secs(1)));
    let listener = Server::bind().await;
    let mut resources = vec![
        ("request-log", Resource::File(File::options().append(true).open("/dev/null").expect("/dev/null"))),
        ("job-queue", Resource::Task(background())),
        ("metrics-flusher", Resource::Task(background())),
    ];
    let names: Vec<&str> = resources.iter().map(|(name, _)| *name).collect();
    let shutdown = CancellationToken::new();
    let mut signals = Signals::new();
    {
        let server = server.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let first = signals.next().await;
            server.mark_signal();
            server.draining.store(true, std::sync::atomic::Ordering::SeqCst);
            server.phase("draining").str("signal", first).int("inFlight", server.in_flight()).int("connections", server.connections()).emit();
            shutdown.cancel();
            let second = signals.next().await;
            server.phase("forced-exit").str("signal", second).emit();
            std::process::exit(if second == "SIGINT" { 130 } else { 143 });
        });
    }
    Server::ready(&listener, "correct", |line| {
        line.int("lagMs", lag.as_millis() as u64).int("graceMs", grace.as_millis() as u64).strings("resources", &names)
    });

    let mut conns = JoinSet::new();
    server.serve_until(&listener, &mut conns, shutdown.cancelled()).await;
    let signal_at = Instant::from_std(server.mark_signal());
    let deadline = signal_at + grace;
    // Through the routing lag: still accepting, still answering (with Connection: close).
    server.serve_until(&listener, &mut conns, sleep_until(std::cmp::min(signal_at + lag, deadline))).await;
    server.close_listener(listener, &mut conns);
    server.phase("listener-closed").int("inFlight", server.in_flight()).int("connections", server.connections()).emit();

    let drained = async {
        let mut sweep = interval(SWEEP);
        let mut reported = false;
        loop {
            tokio::select! {
                next = conns.join_next() => if next.is_none() { break },
                _ = sweep.tick() => {
                    let closed = server.close_idle(IDLE);
                    if closed > 0 && !reported {
                        reported = true;
                        server.phase("idle-closed").int("connections", closed).emit();
                    }
                }
            }
        }
    };
    let code = match timeout_at(deadline, drained).await {
        Ok(()) => {
            server.phase("drained").emit();
            0
        }
        Err(_) => {
            server.phase("grace-expired").int("inFlight", server.in_flight()).int("connections", server.connections()).emit();
            conns.abort_all();
            1
        }
    };
    // Reverse order of registration.
    let count = resources.len() as u64;
    while let Some((name, resource)) = resources.pop() {
        match resource {
            Resource::File(file) => drop(file),
            Resource::Task(task) => task.abort(),
        }
        server.phase("cleanup").int("step", count - resources.len() as u64).str("name", name).emit();
    }
    std::process::exit(code);
}
