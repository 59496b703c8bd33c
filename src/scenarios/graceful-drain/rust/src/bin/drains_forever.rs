//! graceful-drain, broken: on SIGTERM it closes the listener at once (no routing lag: new
//! connections are refused while the load balancer still sends them) and waits for every
//! connection task in its JoinSet to end, with no deadline and without closing idle keep-alive
//! connections. An idle pooled client holds it open until the orchestrator's SIGKILL after the
//! grace period; further SIGTERMs are caught and ignored (the second Ctrl-C swallowed).
use repro_graceful_drain::{exit_when_parent_goes, runtime, Server, Signals};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

fn main() {
    exit_when_parent_goes();
    runtime().block_on(async {
        let server = Server::new();
        let listener = Server::bind().await;
        let shutdown = CancellationToken::new();
        let mut signals = Signals::new();
        {
            let server = server.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let signal = signals.next().await;
                server.mark_signal();
                server.phase("draining").str("signal", signal).int("inFlight", server.in_flight()).int("connections", server.connections()).emit();
                shutdown.cancel();
                loop {
                    signals.next().await;
                }
            });
        }
        Server::ready(&listener, "drains-forever", |line| line);
        let mut conns = JoinSet::new();
        server.serve_until(&listener, &mut conns, shutdown.cancelled()).await;
        drop(listener);
        server.phase("listener-closed").int("inFlight", server.in_flight()).int("connections", server.connections()).emit();
        while conns.join_next().await.is_some() {}
        server.phase("drained").emit();
        std::process::exit(0);
    });
}
