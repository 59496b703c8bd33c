"""graceful-drain children in Python: `server.py PATTERN [--lag MS] [--grace MS]`.

The Python world of the source essay: a threaded http.server daemon whose main
loop runs `while alive:` and whose SIGTERM handler sets `alive = False`. The
endpoints, events and exit codes are the Node children's (see ../README.md):
/work?ms=N (any method, a POST body read first), /stream?ms=N&chunks=K, /ready.
- exit-at-once: the essay's loop as written: `alive = False`, the loop ends,
  the interpreter exits, and the daemon request threads die mid-request.
- keeps-accepting: stops calling accept() but keeps the listening socket:
  the kernel queues connections nobody takes; they are reset at the exit.
- drains-forever: closes the listener at once and waits for every
  connection thread, no deadline, idle keep-alive connections left open.
- correct: readiness 503 and `Connection: close` at once, accepts through
  --lag, takes what is in the accept queue, closes the listener, closes
  connections idle for 100 ms (a request counts from its first byte), waits
  for the rest until --grace, releases resources in reverse order, exit 0; a
  second SIGTERM/SIGINT exits at once.
Speaks repro's protocol (docs/protocol.md): one JSON object per line on stdout.
"""
import json
import os
import select
import signal
import socket
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATTERNS = ("correct", "exit-at-once", "keeps-accepting", "drains-forever")
SIGNALS = {signal.SIGTERM, signal.SIGINT}
BODY = b"x" * 512
CHUNK = b"x" * 256
IDLE_S = 0.100
SWEEP_S = 0.020
HEAD_TIMEOUT_S = 1.0

pattern = sys.argv[1] if len(sys.argv) > 1 else ""
if pattern not in PATTERNS:
    sys.stderr.write("usage: server.py %s [--lag MS] [--grace MS]\n" % "|".join(PATTERNS))
    sys.exit(2)


def ms_flag(name, fallback):
    flag = "--" + name
    if flag not in sys.argv:
        return fallback
    value = sys.argv[sys.argv.index(flag) + 1] if sys.argv.index(flag) + 1 < len(sys.argv) else "(missing)"
    if not value.isdigit():
        sys.stderr.write("%s %s: give a whole number of milliseconds (e.g. %s 500)\n" % (flag, value, flag))
        sys.exit(2)
    return int(value)


lag_ms = ms_flag("lag", 500)
grace_ms = ms_flag("grace", 5000)
runtime = "python %d.%d.%d" % sys.version_info[:3]
out_lock = threading.Lock()


def emit(event):
    line = (json.dumps(event, separators=(",", ":")) + "\n").encode()
    with out_lock:
        try:
            os.write(1, line)
        except OSError:
            os._exit(0)


def leave_when_parent_goes():
    # The harness holds stdin open (a pipe or a socketpair): end of file means it is gone.
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return

    def watch():
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


class State:
    """What the variants switch and what the events report; connections by socket."""

    def __init__(self):
        self.lock = threading.Lock()
        self.draining = False
        self.park = False
        self.signal_at = None
        # socket -> [requests being answered, monotonic time since idle, asked to close]
        self.conns = {}

    def since_signal_ms(self):
        return 0 if self.signal_at is None else round((time.monotonic() - self.signal_at) * 1000, 1)

    def phase(self, event, **fields):
        emit(dict({"event": event, "sinceSignalMs": self.since_signal_ms()}, **fields))

    def in_flight(self):
        with self.lock:
            return sum(c[0] for c in self.conns.values())

    def connections(self):
        with self.lock:
            return len(self.conns)

    def close_idle(self):
        """Closes (FIN) every connection idle for IDLE_S with no request bytes waiting; returns how many."""
        now = time.monotonic()
        closed = 0
        with self.lock:
            for sock, c in self.conns.items():
                if c[0] == 0 and not c[2] and now - c[1] >= IDLE_S and not bytes_waiting(sock):
                    c[2] = True
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    closed += 1
        return closed


def bytes_waiting(sock):
    """True when the kernel holds bytes of a request nobody has read yet (MSG_PEEK leaves them there)."""
    try:
        return len(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)) > 0
    except OSError:  # nothing to read (EAGAIN), or the connection is gone
        return False


state = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "repro-graceful-drain"

    def setup(self):
        super().setup()
        self.conn_state = [0, time.monotonic(), False]
        with state.lock:
            state.conns[self.connection] = self.conn_state

    def finish(self):
        try:
            super().finish()
        finally:
            with state.lock:
                state.conns.pop(self.connection, None)

    def log_message(self, *args):
        pass

    def answer(self, status, body_len, close):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(body_len))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def handle(self):
        if pattern != "correct":
            super().handle()
            return
        # correct: a request counts as in progress from its first byte, peeked before anything reads it,
        # so the idle sweep (close_idle) sees either the count or the unread bytes, never neither, however
        # late a starved thread runs. Counted only once parsed, a request half-sent at the sweep was closed
        # unanswered (the test sends one), and so could one a starved thread had not parsed yet.
        self.close_connection = False
        counted = self.wait_for_request()
        while counted:
            try:
                # Its head must come within HEAD_TIMEOUT_S: a client that sends a byte and stops does not hold
                # the drain to its grace (http.server then closes the connection).
                self.connection.settimeout(HEAD_TIMEOUT_S)
                self.handle_one_request()
            finally:
                with state.lock:
                    self.conn_state[0] -= 1
                    self.conn_state[1] = time.monotonic()
                    # A pipelined request already in rfile's buffer is counted before the sweep can look.
                    counted = not self.close_connection and self.bytes_here()
                    if counted:
                        self.conn_state[0] += 1
            if not counted and not self.close_connection:
                counted = self.wait_for_request()

    def wait_for_request(self):
        """Counts the next request once its first byte is here, without reading it; False at end of file."""
        while True:
            with state.lock:
                if self.bytes_here():
                    self.conn_state[0] += 1
                    return True
            try:
                if not self.connection.recv(1, socket.MSG_PEEK):
                    return False
            except OSError:
                return False

    def bytes_here(self):
        """Bytes of a request in rfile's buffer or in the kernel, looked at without blocking (under state.lock)."""
        self.connection.setblocking(False)
        try:
            return bool(self.rfile.peek(1))
        except OSError:
            return False
        finally:
            self.connection.setblocking(True)

    def serve(self):
        if pattern == "correct":
            self.connection.settimeout(None)  # the head is in: no timeout for the body or the answer
            self.route()
            return
        if state.park:
            # Never answered: what a connection in a backlog nobody accepts from gets.
            threading.Event().wait()
        with state.lock:
            self.conn_state[0] += 1
        try:
            self.route()
        finally:
            with state.lock:
                self.conn_state[0] -= 1
                self.conn_state[1] = time.monotonic()

    def route(self):
        draining = state.draining
        url = urlsplit(self.path)
        query = parse_qs(url.query)

        def number(name, fallback):
            raw = (query.get(name) or [""])[0]
            return int(raw) if raw.isdigit() else fallback

        ms = min(number("ms", 0), 60000)
        if url.path == "/ready":
            body = b"draining\n" if draining else b"ready\n"
            self.answer(503 if draining else 200, len(body), draining)
            self.wfile.write(body)
        elif url.path == "/stream":
            chunks = max(1, min(number("chunks", 8), 1000))
            self.answer(200, chunks * len(CHUNK), draining)
            for i in range(chunks):
                if i > 0:
                    time.sleep(ms / 1000 / chunks)
                self.wfile.write(CHUNK)
        elif url.path == "/work":
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            time.sleep(ms / 1000)
            self.answer(201 if self.command == "POST" else 200, len(BODY), draining)
            self.wfile.write(BODY)
        else:
            self.answer(404, 0, draining)

    do_GET = serve
    do_POST = serve


class Server(ThreadingHTTPServer):
    # The essay's daemon: request threads are daemon threads, so they die with the interpreter.
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def process_request_thread(self, request, client_address):
        # Signals belong to the main thread (its select() must wake on them).
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        super().process_request_thread(request, client_address)


alive = True
signals_seen = []


def on_signal(signum, frame):
    global alive
    name = signal.Signals(signum).name
    signals_seen.append(name)
    if len(signals_seen) == 1:
        state.signal_at = time.monotonic()
        alive = False
        if pattern == "exit-at-once":
            state.phase("exiting", signal=name, inFlight=state.in_flight(), connections=state.connections())
            return
        if pattern == "correct":
            state.draining = True
        if pattern == "keeps-accepting":
            state.park = True
        state.phase("draining", signal=name, inFlight=state.in_flight(), connections=state.connections())
    elif pattern == "correct":
        state.phase("forced-exit", signal=name)
        os._exit(130 if signum == signal.SIGINT else 143)
    # keeps-accepting and drains-forever: later signals are caught and ignored.


def accept_for(server, seconds):
    """Accepts and serves until `seconds` have passed (or, with None, while alive)."""
    until = None if seconds is None else time.monotonic() + seconds
    while (alive if until is None else time.monotonic() < until):
        wait = 0.05 if until is None else max(0.0, min(0.05, until - time.monotonic()))
        try:
            ready, _, _ = select.select([server.socket], [], [], wait)
        except InterruptedError:
            continue
        # A signal handled during select() ends the loop before one more accept().
        if ready and (alive or until is not None):
            server._handle_request_noblock()


def take_accept_queue(server):
    """Serves every connection already in the kernel's accept queue, without waiting."""
    server.socket.setblocking(False)
    while True:
        try:
            request, address = server.socket.accept()
        except (BlockingIOError, InterruptedError):
            break
        request.setblocking(True)
        server.process_request(request, address)


def main():
    leave_when_parent_goes()
    for s in SIGNALS:
        signal.signal(s, on_signal)
    server = Server(("127.0.0.1", 0), Handler)
    resources = []
    extra = {}
    if pattern == "correct":
        log = open(os.devnull, "a")
        stop = threading.Event()
        resources = [("request-log", log.close), ("job-queue", stop.set), ("metrics-flusher", stop.set)]
        extra = {"lagMs": lag_ms, "graceMs": grace_ms, "resources": [name for name, _ in resources]}
    emit(dict({"event": "ready", "pid": os.getpid(), "scenario": "graceful-drain", "pattern": pattern, "runtime": runtime,
               "port": server.server_address[1]}, **extra))

    accept_for(server, None)  # while alive

    if pattern == "exit-at-once":
        sys.exit(0)  # the daemon request threads die here, mid-request

    if pattern == "keeps-accepting":
        # The listening socket stays open; nobody accepts on it any more.
        while state.in_flight() > 0:
            time.sleep(0.005)
        state.phase("drained", parked=state.connections())
        os._exit(0)

    if pattern == "drains-forever":
        server.socket.close()
        state.phase("listener-closed", inFlight=state.in_flight(), connections=state.connections())
        while state.connections() > 0:
            time.sleep(0.005)
        state.phase("drained")
        os._exit(0)

    # correct
    deadline = state.signal_at + grace_ms / 1000
    accept_for(server, max(0.0, min(state.signal_at + lag_ms / 1000, deadline) - time.monotonic()))
    take_accept_queue(server)
    server.socket.close()
    state.phase("listener-closed", inFlight=state.in_flight(), connections=state.connections())
    reported = False
    code = 0
    while state.connections() > 0:
        if time.monotonic() >= deadline:
            state.phase("grace-expired", inFlight=state.in_flight(), connections=state.connections())
            with state.lock:
                for sock in state.conns:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            code = 1
            break
        closed = state.close_idle()
        if closed and not reported:
            reported = True
            state.phase("idle-closed", connections=closed)
        time.sleep(SWEEP_S)
    if code == 0:
        state.phase("drained")
    for step, (name, release) in enumerate(reversed(resources), start=1):
        release()
        state.phase("cleanup", step=step, name=name)
    os._exit(code)


main()
