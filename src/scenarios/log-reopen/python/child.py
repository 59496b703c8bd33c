"""log-reopen children in Python: `child.py broken|correct --log PATH`.

The Python world of the source essay: a service that reopens its log on
SIGHUP after logrotate renamed it.
- broken: adds a new logging.FileHandler per SIGHUP and never removes or
  closes the old one (every handler still writes, so the rotated, later
  deleted, files keep growing and pin their disk space): +1 fd per reload.
- correct: adds the new handler, removes the old one and closes it.
Speaks repro's protocol (docs/protocol.md): one JSON object per line on stdout.
"""
import errno
import json
import logging
import os
import signal
import sys
import threading

pattern = sys.argv[1] if len(sys.argv) > 1 else ""
if pattern not in ("broken", "correct") or "--log" not in sys.argv:
    sys.stderr.write("usage: child.py broken|correct --log PATH\n")
    sys.exit(2)
path = sys.argv[sys.argv.index("--log") + 1]
runtime = "python %d.%d.%d" % sys.version_info[:3]


def emit(event):
    os.write(1, (json.dumps(event, separators=(",", ":")) + "\n").encode())


def leave_when_parent_goes():
    # The harness holds stdin open: end of file means it is gone, even after SIGKILL.
    # Signals go to the main thread only, or pause() there would never wake.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, signal.SIGTERM, signal.SIGINT})
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os._exit(0)


log = logging.getLogger("service")
log.setLevel(logging.INFO)
log.propagate = False
log.addHandler(logging.FileHandler(path))
seq = 0


def reopen(signum, frame):
    global seq
    seq += 1
    try:
        handler = logging.FileHandler(path)
    except OSError as error:
        code = errno.errorcode.get(error.errno, str(error.errno))
        log.error("reload %d: cannot reopen log: %s", seq, error.strerror)
        emit({"event": "register-failed", "seq": seq, "code": code,
              "message": "cannot reopen log: %s (%s)" % (code, error.strerror)})
        return
    old = log.handlers[:]
    log.addHandler(handler)
    if pattern == "correct":
        for h in old:
            log.removeHandler(h)
            h.close()
    # broken: the old handlers stay attached and open, and keep writing to rotated files.
    log.info("reload %d: reopened %s", seq, path)
    emit({"event": "reload", "seq": seq, "listeners": len(log.handlers)})


def shutdown(signum, frame):
    handlers = log.handlers[:]
    closed = 0
    if pattern == "correct":
        for h in handlers:
            log.removeHandler(h)
            h.close()
            closed += 1
    emit({"event": "shutdown", "closedFds": closed, "removedListeners": closed,
          "leakedFds": len(handlers) - closed})
    os._exit(0)


signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, signal.SIGTERM, signal.SIGINT})
threading.Thread(target=leave_when_parent_goes, daemon=True).start()
signal.signal(signal.SIGHUP, reopen)
signal.signal(signal.SIGTERM, shutdown)
signal.signal(signal.SIGINT, shutdown)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP, signal.SIGTERM, signal.SIGINT})
log.info("started")
emit({"event": "ready", "pid": os.getpid(), "scenario": "log-reopen", "pattern": pattern,
      "runtime": runtime, "listeners": len(log.handlers)})
while True:
    signal.pause()
