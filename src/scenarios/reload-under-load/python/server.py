"""A small HTTP/1.1 server that reloads on SIGHUP, three ways (reload-under-load).

  --mode close-relisten  broken: the reload closes the listening socket and
                         listens again; connections in the gap are refused.
  --mode reexec          broken: the reload re-execs the program, whose
                         listening socket is close-on-exec: it is gone until
                         the new image binds again (refused), and connections
                         the old image had accepted are cut.
  --mode keep            correct: the listening socket stays; only the
                         configuration is swapped.

Prints the protocol's `ready` (with the port) and one `reload` event per
reload handled (--no-ack: none, so only the process world shows a reload).
Answers every request with 200 and a small body with its Content-Length.
SIGTERM or end of stdin: exit.
"""
import argparse
import json
import os
import selectors
import signal
import socket
import stat
import sys
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--mode", choices=["close-relisten", "reexec", "keep"], required=True)
p.add_argument("--port", type=int, default=0)
p.add_argument("--gap-ms", type=int, default=50, help="close-relisten: how long the reload keeps the port closed")
p.add_argument("--generation", type=int, default=0, help="reexec: reloads done before this image")
p.add_argument("--no-ack", action="store_true")
args = p.parse_args()

config = {"generation": args.generation}


def say(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    s.setblocking(False)
    return s


def serve(conn):
    """One client connection: keep-alive requests until it closes or asks to."""
    conn.setblocking(True)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            length = int(headers.get("content-length", "0") or 0)
            while len(buf) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            buf = buf[length:]
            body = ("ok %d\n" % config["generation"]).encode()
            close = headers.get("connection", "").lower() == "close"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(body), b"Connection: close\r\n" if close else b"") + body)
            if close:
                return
    except OSError:
        return
    finally:
        conn.close()


pending = []


def on_hup(signum, frame):
    pending.append(signum)


def on_term(signum, frame):
    os._exit(0)


def stdin_watch():
    # Only a pipe or a socket from the harness ends; a terminal or /dev/null does not.
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os._exit(0)


signal.signal(signal.SIGTERM, on_term)
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
lst = listen(args.port)
port = lst.getsockname()[1]
signal.signal(signal.SIGHUP, on_hup)
threading.Thread(target=stdin_watch, daemon=True).start()
if args.generation == 0:
    say({"event": "ready", "pid": os.getpid(), "scenario": "reload-under-load", "pattern": args.mode, "runtime": "python " + sys.version.split()[0], "port": port})
elif not args.no_ack:
    say({"event": "reload", "seq": args.generation, "listeners": 1})

sel = selectors.DefaultSelector()
sel.register(lst, selectors.EVENT_READ, "listen")
sel.register(wake_r, selectors.EVENT_READ, "wake")
while True:
    for key, _ in sel.select():
        if key.data == "wake":
            os.read(wake_r, 4096)
            continue
        try:
            conn, _ = lst.accept()
        except (BlockingIOError, InterruptedError):
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
    while pending:
        pending.pop()
        config["generation"] += 1
        if args.mode == "reexec":
            argv = [sys.executable, os.path.abspath(__file__), "--mode", "reexec", "--port", str(port), "--generation", str(config["generation"])]
            if args.no_ack:
                argv.append("--no-ack")
            sys.stdout.flush()
            os.execv(sys.executable, argv)
        if args.mode == "close-relisten":
            sel.unregister(lst)
            lst.close()
            time.sleep(args.gap_ms / 1000)
            lst = listen(port)
            sel.register(lst, selectors.EVENT_READ, "listen")
        if not args.no_ack:
            say({"event": "reload", "seq": config["generation"], "listeners": 1})
