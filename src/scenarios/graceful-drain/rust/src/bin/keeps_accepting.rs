//! graceful-drain, broken: on SIGTERM it stops calling accept() but leaves the listener open,
//! stops answering new requests on open connections, finishes the requests already running,
//! and exits. The kernel keeps completing handshakes into the backlog all along; those
//! connections are never answered and are reset at the exit. The WSGI lesson of the essay on
//! Linux signals, for real: unlike the Node child, this one does stop accepting.
use std::sync::atomic::Ordering;
use std::time::Duration;

use repro_graceful_drain::{exit_when_parent_goes, runtime, Server, Signals};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

fn main() {
    exit_when_parent_goes();
    runtime().block_on(async {
        let server = Server::new();
        let listener = Server::bind().await;
        let stop = CancellationToken::new();
        let mut signals = Signals::new();
        {
            let server = server.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let signal = signals.next().await;
                server.mark_signal();
                server.park.store(true, Ordering::SeqCst);
                server.phase("draining").str("signal", signal).int("inFlight", server.in_flight()).int("connections", server.connections()).emit();
                stop.cancel();
                // Later signals are caught and ignored.
                loop {
                    signals.next().await;
                }
            });
        }
        Server::ready(&listener, "keeps-accepting", |line| line);
        let mut conns = JoinSet::new();
        server.serve_until(&listener, &mut conns, stop.cancelled()).await;
        // `listener` stays open (and unaccepted from) until the process exits.
        while server.in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.phase("drained").int("parked", server.connections()).emit();
        drop(listener);
        std::process::exit(0);
    });
}
