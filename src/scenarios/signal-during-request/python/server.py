#!/usr/bin/env python3
"""signal-during-request's server: an http.server on 127.0.0.1 (one thread:
the main thread serves every request, as CPython runs signal handlers in the
main thread) that answers GET /work?ms=N after N ms, and does 200 ms of work
on each SIGUSR1 (the essay's REPL attached on a signal).

    server.py ROLE

ROLE is where the 200 ms go:
- inline-handler: in the handler itself, so the request being served, and
  every one waiting to be accepted, waits for it;
- masked-during-request: the handler is the same, but SIGUSR1 is blocked
  while a request is served (pthread_sigmask): the work runs right after the
  request instead, and the requests waiting behind it still wait (the
  essay's second attempt: the stall moves, it does not go away);
- correct: the handler only wakes a worker thread (an Event), which does
  the work off the serving thread.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

WORK_S = 0.2
HTTPServer.request_queue_size = 64


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        time.sleep(int(query.get("ms", ["0"])[0]) / 1000)
        body = b"done\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class MaskingServer(HTTPServer):
    """Blocks SIGUSR1 while a request is served; a signal that came meanwhile runs at the unblock."""

    def process_request(self, request, client_address):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        try:
            super().process_request(request, client_address)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})


def main():
    role = sys.argv[1] if len(sys.argv) > 1 else "correct"
    if role == "correct":
        wake = threading.Event()

        def worker():
            while True:
                wake.wait()
                wake.clear()
                time.sleep(WORK_S)

        threading.Thread(target=worker, daemon=True).start()
        signal.signal(signal.SIGUSR1, lambda signum, frame: wake.set())
    else:
        signal.signal(signal.SIGUSR1, lambda signum, frame: time.sleep(WORK_S))
    server = (MaskingServer if role == "masked-during-request" else HTTPServer)(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    emit({"event": "ready", "pid": os.getpid(), "scenario": "signal-during-request", "pattern": role, "runtime": "python", "port": server.server_address[1]})
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
