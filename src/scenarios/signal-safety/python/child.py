"""signal-safety, Python (the honest variant): the same crypt() work in the
main loop and in a pure-Python SIGUSR1 handler, under the same storm. It
survives: CPython's C-level handler only sets a flag, and the Python handler
runs later, between bytecodes of the main thread, never inside crypt().

SIGUSR2 asks for {"event":"alive","checks":N,"handled":H}; a failed check
prints {"event":"corrupt","check":N} and exits 3; end of stdin exits.
"""
import json
import os
import select
import signal
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

SALT = "$6$reprosalt$"
state = {"handled": 0, "report": False}


def say(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def on_usr1(signum, frame):
    state["handled"] += 1
    crypt.crypt("handler", SALT)


def on_usr2(signum, frame):
    state["report"] = True


expected = crypt.crypt("main", SALT)
signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGUSR2, on_usr2)
say({"event": "ready", "pid": os.getpid(), "scenario": "signal-safety", "pattern": sys.argv[1] if len(sys.argv) > 1 else "python-handler", "runtime": "python"})
checks = 0
while True:
    if crypt.crypt("main", SALT) != expected:
        say({"event": "corrupt", "check": checks})
        sys.exit(3)
    checks += 1
    readable, _, _ = select.select([sys.stdin], [], [], 0)
    if readable and not os.read(sys.stdin.fileno(), 256):
        break
    if state["report"]:
        state["report"] = False
        say({"event": "alive", "checks": checks, "handled": state["handled"]})
