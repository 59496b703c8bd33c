//! graceful-drain, broken: exits on SIGTERM. Requests in flight are cut (the kernel closes
//! their connections), and for the rest of the routing lag every new connection is refused.
//! Readiness never says it is going.
use repro_graceful_drain::{exit_when_parent_goes, runtime, Server, Signals};
use tokio::task::JoinSet;

fn main() {
    exit_when_parent_goes();
    runtime().block_on(async {
        let server = Server::new();
        let listener = Server::bind().await;
        let mut signals = Signals::new();
        {
            let server = server.clone();
            tokio::spawn(async move {
                let signal = signals.next().await;
                server.mark_signal();
                server.phase("exiting").str("signal", signal).int("inFlight", server.in_flight()).int("connections", server.connections()).emit();
                std::process::exit(0);
            });
        }
        Server::ready(&listener, "exit-at-once", |line| line);
        let mut conns = JoinSet::new();
        server.serve_until(&listener, &mut conns, std::future::pending::<()>()).await;
    });
}
