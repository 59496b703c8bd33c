"""sigchld-reap, Python: a server that forks a burst of short-lived children
on SIGUSR1 (they all exit together) and reaps them from its SIGCHLD handler.

broken:  one os.waitpid() per handler run. CPython runs a Python handler
         once for every SIGCHLD that arrived since it last looked, and the
         kernel coalesces the rest: zombies stay.
correct: while os.waitpid(-1, WNOHANG) returns a child: every exited child.
SIGUSR2 prints {"event":"reaped","reaped":N}; end of stdin exits.
"""
import json
import os
import select
import signal
import sys

correct = len(sys.argv) > 1 and sys.argv[1] == "correct"
children = int(sys.argv[2]) if len(sys.argv) > 2 else 20
reaped = 0


def say(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def on_chld(signum, frame):
    global reaped
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reaped += 1
        if not correct:
            return


def on_usr1(signum, frame):
    # A Python handler runs between bytecodes, not in signal context: forking here is safe.
    gate_r, gate_w = os.pipe()
    forked = 0
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            os.close(gate_w)
            os.read(gate_r, 1)
            os._exit(0)
        forked += 1
    os.close(gate_r)
    os.close(gate_w)
    say({"event": "forked", "children": forked})


def on_usr2(signum, frame):
    say({"event": "reaped", "reaped": reaped})


signal.signal(signal.SIGCHLD, on_chld)
signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGUSR2, on_usr2)
say({"event": "ready", "pid": os.getpid(), "scenario": "sigchld-reap", "pattern": "correct" if correct else "broken", "runtime": "python"})
# A signal that lands after the interpreter's last check and before select() blocks would wait for
# the next wake-up: the wakeup fd makes every signal wake select(), whose retry (PEP 475) runs the handlers.
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
while True:
    readable, _, _ = select.select([sys.stdin, wake_r], [], [])
    if wake_r in readable:
        os.read(wake_r, 4096)
    if sys.stdin in readable and not os.read(sys.stdin.fileno(), 256):
        break
