#!/usr/bin/env python3
"""queue-drain's worker: takes jobs from repro's broker (a unix socket), works
each for the time it names, acknowledges it, takes the next.

    worker.py ROLE --workers sync|threads --socket PATH

ROLE is how SIGTERM is met:
- default-sigterm: no handler; the default action kills the process with a
  job taken and never acknowledged.
- exit-in-handler: the handler calls sys.exit(0). Sync: SystemExit unwinds
  the job being worked, the process exits 0, the job is lost. Threads: the
  exception only ends the main thread; the interpreter then waits for the
  worker threads, which keep taking jobs until SIGKILL.
- correct: the handler only sets a flag; each worker finishes and
  acknowledges the job it took (one already on its way included), takes no
  more, and the process exits 0.
"""
import json
import os
import signal
import socket
import sys
import threading
import time

THREADS = 4


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def args():
    role, rest = sys.argv[1], sys.argv[2:]
    opts = dict(zip(rest[::2], rest[1::2]))
    return role, opts.get("--workers", "sync"), opts["--socket"]


def work(path, stopping):
    """One worker: its own connection to the broker, take → work → ack until told to stop."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    reader = conn.makefile("r")
    while not stopping.is_set():
        conn.sendall(b"take\n")
        line = reader.readline()
        if not line:
            return
        _, job, work_ms = line.split()
        time.sleep(int(work_ms) / 1000)
        conn.sendall(f"ack {job}\n".encode())
    conn.close()


def main():
    role, workers, path = args()
    stopping = threading.Event()
    if role == "exit-in-handler":
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    elif role == "correct":
        signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    emit({"event": "ready", "pid": os.getpid(), "scenario": "queue-drain", "pattern": role, "runtime": "python", "workers": workers})
    if workers == "sync":
        work(path, stopping)
        return
    threads = [threading.Thread(target=work, args=(path, stopping)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
