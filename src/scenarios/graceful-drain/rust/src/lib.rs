//! What every graceful-drain Rust child shares: an HTTP/1.1 server (hyper on a
//! current-thread tokio runtime) on 127.0.0.1, ephemeral port reported in `ready`,
//! keep-alive on with no timeout, and the endpoints of the Node children:
//!
//! - `/work?ms=N` (any method; a POST body is read first): 200 (POST: 201), 512 bytes, after N ms;
//! - `/stream?ms=N&chunks=K`: the head at once, K × 256 bytes over N ms, with a Content-Length;
//! - `/ready`: 200, or 503 once the child is draining.
//!
//! Each binary decides what SIGTERM does. Phase events carry `sinceSignalMs`, the
//! child's own clock from its signal handler. Every child exits when stdin ends.
//! JSON is written by hand: a few flat events do not need serde.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Bytes, HttpBody, SizeHint};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::Http;
use hyper::service::service_fn;
use hyper::{Body, HeaderMap, Method, Request, Response, StatusCode};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub const SCENARIO: &str = "graceful-drain";
const BODY: [u8; 512] = [b'x'; 512];
const CHUNK_BYTES: usize = 256;

/// One protocol line, built field by field and written in one write.
pub struct Line(String);

fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Line {
    pub fn event(name: &str) -> Line {
        let mut s = String::with_capacity(160);
        s.push_str("{\"event\":");
        json_string(&mut s, name);
        Line(s)
    }
    fn key(&mut self, key: &str) {
        self.0.push(',');
        json_string(&mut self.0, key);
        self.0.push(':');
    }
    pub fn str(mut self, key: &str, value: &str) -> Line {
        self.key(key);
        json_string(&mut self.0, value);
        self
    }
    pub fn int(mut self, key: &str, value: u64) -> Line {
        self.key(key);
        let _ = write!(self.0, "{value}");
        self
    }
    /// Milliseconds rounded to 0.1.
    pub fn ms(mut self, key: &str, value: f64) -> Line {
        self.key(key);
        let _ = write!(self.0, "{}", (value * 10.0).round() / 10.0);
        self
    }
    pub fn strings(mut self, key: &str, values: &[&str]) -> Line {
        self.key(key);
        self.0.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            json_string(&mut self.0, v);
        }
        self.0.push(']');
        self
    }
    /// Writes the line in one write and flushes. If stdout is gone, so is the harness: leave.
    pub fn emit(mut self) {
        self.0.push_str("}\n");
        let mut out = std::io::stdout().lock();
        if out.write_all(self.0.as_bytes()).and_then(|()| out.flush()).is_err() {
            std::process::exit(0);
        }
    }
}

/// `rust 1.95.0, hyper 0.14.19, tokio 1.24.2`: the compiler and the crates, as the build resolved them.
pub fn runtime_name() -> String {
    format!("rust {}, hyper {}, tokio {}", env!("REPRO_RUSTC_VERSION"), env!("REPRO_HYPER_VERSION"), env!("REPRO_TOKIO_VERSION"))
}

/// `--name N` from argv as a whole number of milliseconds, or `fallback`; a bad value is one line on stderr, exit 2.
pub fn ms_flag(name: &str, fallback: u64) -> Duration {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    match args.iter().position(|a| *a == flag) {
        None => Duration::from_millis(fallback),
        Some(i) => match args.get(i + 1).and_then(|v| v.parse::<u64>().ok()) {
            Some(ms) => Duration::from_millis(ms),
            None => {
                eprintln!("--{name} {}: give a whole number of milliseconds (e.g. --{name} 500)", args.get(i + 1).map(String::as_str).unwrap_or("(missing)"));
                std::process::exit(2);
            }
        },
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

/// A current-thread runtime, as single-threaded as the Node children.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// SIGTERM and SIGINT, registered once (before `ready`, so an early signal is caught, not fatal).
pub struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    pub fn new() -> Signals {
        Signals {
            term: signal(SignalKind::terminate()).expect("SIGTERM handler"),
            int: signal(SignalKind::interrupt()).expect("SIGINT handler"),
        }
    }
    /// The next SIGTERM or SIGINT, by name.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

impl Default for Signals {
    fn default() -> Self {
        Signals::new()
    }
}

/// Per-connection state the drain needs.
struct Conn {
    /// Requests being answered on it now.
    active: u32,
    /// Since when it has had no request: accepted, or its last response finished.
    idle_since: Instant,
    /// Cancelled to have the connection close (hyper's graceful shutdown: at once when idle).
    close: CancellationToken,
    closing: bool,
}

/// The server's shared state: what the variants switch and what the events report.
pub struct Server {
    /// /ready answers 503 and requests from now on are answered with `Connection: close`.
    pub draining: AtomicBool,
    /// New requests are never answered (keeps-accepting).
    pub park: AtomicBool,
    signal_at: Mutex<Option<Instant>>,
    conns: Mutex<HashMap<u64, Conn>>,
    next_id: AtomicU64,
    /// A connection asked to close that answers nothing for this long is dropped (correct): hyper waits
    /// for a half-read request head forever (its http1_header_read_timeout never fires in 0.14.19).
    stalled_close: Option<Duration>,
}

/// A request being answered: counted from the handler's start until hyper drops the response body.
struct Active {
    server: Arc<Server>,
    id: u64,
}

impl Drop for Active {
    fn drop(&mut self) {
        if let Some(conn) = self.server.conns.lock().unwrap().get_mut(&self.id) {
            conn.active = conn.active.saturating_sub(1);
            conn.idle_since = Instant::now();
        }
    }
}

/// A response body that keeps its request counted as in flight until hyper is done with it.
pub struct Tracked {
    inner: Body,
    _active: Active,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = hyper::Error;
    fn poll_data(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, hyper::Error>>> {
        Pin::new(&mut self.inner).poll_data(cx)
    }
    fn poll_trailers(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Option<HeaderMap>, hyper::Error>> {
        Pin::new(&mut self.inner).poll_trailers(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn query_number(query: Option<&str>, name: &str) -> Option<u64> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if k == name {
            v.parse().ok()
        } else {
            None
        }
    })
}

impl Server {
    pub fn new() -> Arc<Server> {
        Self::with_stalled_close(None)
    }

    /// A server that drops a connection asked to close once it has answered nothing for `timeout`: a
    /// client that sends a byte of a request and stops does not hold a drain to its grace.
    pub fn with_stalled_close(timeout: Option<Duration>) -> Arc<Server> {
        Arc::new(Server {
            draining: AtomicBool::new(false),
            park: AtomicBool::new(false),
            signal_at: Mutex::new(None),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            stalled_close: timeout,
        })
    }

    /// Notes the moment of the (first) signal: `sinceSignalMs` counts from here.
    pub fn mark_signal(&self) -> Instant {
        *self.signal_at.lock().unwrap().get_or_insert_with(Instant::now)
    }

    pub fn since_signal_ms(&self) -> f64 {
        self.signal_at.lock().unwrap().map(|at| at.elapsed().as_secs_f64() * 1000.0).unwrap_or(0.0)
    }

    /// A phase event stamped with `sinceSignalMs`.
    pub fn phase(&self, event: &str) -> Line {
        Line::event(event).ms("sinceSignalMs", self.since_signal_ms())
    }

    /// Requests being answered now.
    pub fn in_flight(&self) -> u64 {
        self.conns.lock().unwrap().values().map(|c| u64::from(c.active)).sum()
    }

    /// Requests being answered on connection `id`.
    fn answering(&self, id: u64) -> u32 {
        self.conns.lock().unwrap().get(&id).map_or(0, |c| c.active)
    }

    /// Open connections.
    pub fn connections(&self) -> u64 {
        self.conns.lock().unwrap().len() as u64
    }

    /// Asks every connection idle for at least `idle_for` to close; returns how many were asked.
    pub fn close_idle(&self, idle_for: Duration) -> u64 {
        let now = Instant::now();
        let mut asked = 0;
        for conn in self.conns.lock().unwrap().values_mut() {
            if conn.active == 0 && !conn.closing && now.duration_since(conn.idle_since) >= idle_for {
                conn.closing = true;
                conn.close.cancel();
                asked += 1;
            }
        }
        asked
    }

    /// Binds 127.0.0.1 on an ephemeral port.
    pub async fn bind() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0")
    }

    /// The `ready` event with the port; `extra` adds the variant's own fields.
    pub fn ready(listener: &TcpListener, pattern: &str, extra: impl FnOnce(Line) -> Line) {
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let line = Line::event("ready")
            .int("pid", u64::from(std::process::id()))
            .str("scenario", SCENARIO)
            .str("pattern", pattern)
            .str("runtime", &runtime_name())
            .int("port", u64::from(port));
        extra(line).emit();
    }

    /// Accepts and serves connections (each a task in `conns`) until `until` completes.
    pub async fn serve_until<F: Future>(self: &Arc<Self>, listener: &TcpListener, conns: &mut JoinSet<()>, until: F) {
        tokio::pin!(until);
        loop {
            tokio::select! {
                biased;
                _ = &mut until => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        conns.spawn(self.serve(stream));
                    }
                    // EMFILE and the like: do not spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                },
                // Reap finished connections so the set holds only live ones.
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    }

    /// Takes every connection already in the kernel's accept queue (without waiting), then closes the listener.
    pub fn close_listener(self: &Arc<Self>, listener: TcpListener, conns: &mut JoinSet<()>) {
        let listener = match listener.into_std() {
            Ok(listener) => listener,
            Err(_) => return,
        };
        let _ = listener.set_nonblocking(true);
        while let Ok((stream, _)) = listener.accept() {
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            if let Ok(stream) = TcpStream::from_std(stream) {
                conns.spawn(self.serve(stream));
            }
        }
    }

    /// One connection: HTTP/1.1 with keep-alive until the client closes it, or until it is asked to
    /// close (then hyper closes it at once if idle, or after the response in progress).
    pub fn serve(self: &Arc<Self>, stream: TcpStream) -> impl Future<Output = ()> + Send + 'static {
        let _ = stream.set_nodelay(true);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let close = CancellationToken::new();
        self.conns.lock().unwrap().insert(id, Conn { active: 0, idle_since: Instant::now(), close: close.clone(), closing: false });
        let server = Arc::clone(self);
        async move {
            let handler = Arc::clone(&server);
            let service = service_fn(move |req| {
                let handler = Arc::clone(&handler);
                async move { Ok::<_, Infallible>(handler.handle(id, req).await) }
            });
            let conn = Http::new().http1_keep_alive(true).serve_connection(stream, service);
            tokio::pin!(conn);
            let mut asked: Option<Instant> = None;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    _ = close.cancelled(), if asked.is_none() => {
                        asked = Some(Instant::now());
                        conn.as_mut().graceful_shutdown();
                    }
                    // Asked to close and still open: hyper is waiting for a request head. Dropped once nothing
                    // has been answered on it for the stalled-close time.
                    _ = tokio::time::sleep(Duration::from_millis(50)), if asked.is_some() && server.stalled_close.is_some() => {
                        let (since, limit) = (asked.map(|t| t.elapsed()), server.stalled_close);
                        if server.answering(id) == 0 && since >= limit {
                            break;
                        }
                    }
                }
            }
            server.conns.lock().unwrap().remove(&id);
        }
    }

    async fn handle(self: Arc<Self>, id: u64, req: Request<Body>) -> Response<Tracked> {
        if self.park.load(Ordering::SeqCst) {
            // Never answered: what a connection waiting in a backlog nobody accepts from gets.
            std::future::pending::<()>().await;
        }
        if let Some(conn) = self.conns.lock().unwrap().get_mut(&id) {
            conn.active += 1;
        }
        let active = Active { server: Arc::clone(&self), id };
        let draining = self.draining.load(Ordering::SeqCst);
        let ms = query_number(req.uri().query(), "ms").unwrap_or(0).min(60_000);
        let (status, content_type, length, body) = match req.uri().path() {
            "/ready" => {
                let text: &'static [u8] = if draining { b"draining\n" } else { b"ready\n" };
                let status = if draining { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
                (status, "text/plain", text.len(), Body::from(text))
            }
            "/stream" => {
                let chunks = query_number(req.uri().query(), "chunks").unwrap_or(8).clamp(1, 1000) as usize;
                let (mut tx, body) = Body::channel();
                let pause = Duration::from_millis(ms) / chunks as u32;
                tokio::spawn(async move {
                    for i in 0..chunks {
                        if i > 0 {
                            tokio::time::sleep(pause).await;
                        }
                        if tx.send_data(Bytes::from_static(&BODY[..CHUNK_BYTES])).await.is_err() {
                            return;
                        }
                    }
                });
                (StatusCode::OK, "application/octet-stream", chunks * CHUNK_BYTES, body)
            }
            "/work" => {
                let post = req.method() == Method::POST;
                let _ = hyper::body::to_bytes(req.into_body()).await;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let status = if post { StatusCode::CREATED } else { StatusCode::OK };
                (status, "application/octet-stream", BODY.len(), Body::from(&BODY[..]))
            }
            _ => (StatusCode::NOT_FOUND, "text/plain", 0, Body::empty()),
        };
        let mut response = Response::new(Tracked { inner: body, _active: active });
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        if draining {
            // hyper closes the connection after this response.
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
