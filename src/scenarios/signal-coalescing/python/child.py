"""signal-coalescing, Python: counts what its handlers see of a burst repro
sends while it holds the child stopped (the signals stay pending).

broken:    counts SIGHUP handler runs as events: 1 of N.
correct:   takes SIGHUP as "go look" and counts the work items in its spool (N of N).
python-rt: counts SIGRTMIN+1 handler runs. The kernel queues all N, but
           CPython's C handler only sets a flag per signal number, and the
           Python handler runs once for all of them: 1 of N.
SIGUSR2 prints {"event":"counted","hup":H,"rt":R,"seen":S}; end of stdin exits.
"""
import json
import os
import select
import signal
import sys

role = sys.argv[1] if len(sys.argv) > 1 else "broken"
spool = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--spool" else None
counts = {"hup": 0, "rt": 0, "seen": 0}


def say(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def on_hup(signum, frame):
    counts["hup"] += 1
    if role == "correct" and spool:
        counts["seen"] = len([n for n in os.listdir(spool) if not n.startswith(".")])


def on_rt(signum, frame):
    counts["rt"] += 1


def on_usr2(signum, frame):
    say({"event": "counted", **counts})


signal.signal(signal.SIGHUP, on_hup)
signal.signal(signal.SIGRTMIN + 1, on_rt)
signal.signal(signal.SIGUSR2, on_usr2)
say({"event": "ready", "pid": os.getpid(), "scenario": "signal-coalescing", "pattern": role, "runtime": "python"})
if spool:
    say({"event": "spool", "dir": spool})
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
