"""signal-safety, Python. The role is the first argument:
  python-handler (the honest variant): the same crypt() work in the main loop
    and in a pure-Python SIGUSR1 handler, under the same storm. It survives:
    CPython's C-level handler only sets a flag, and the Python handler runs
    later, between bytecodes of the main thread, never inside crypt().
  ctypes-localtime: a ctypes CFUNCTYPE installed with libc's signal(), so the
    kernel runs it at once, inside whatever C the main loop is in (not
    CPython's flag); it calls libc's localtime(), as the main loop does through
    ctypes. A signal that lands while the main loop holds glibc's tz lock makes
    the handler wait for it forever (deadlock). time.localtime() would not
    serve as the main loop: it calls localtime_r(), which skips tzset's stat()
    of /etc/localtime and holds the lock far too briefly to be hit reliably.

SIGUSR2 asks for {"event":"alive","checks":N,"handled":H,"delivered":D,"at":T}:
H handler runs, D SIGUSR1 the kernel delivered (the C-level handler ran: the
ctypes handler counts itself; CPython's writes the signal's number to the
wakeup fd at every delivery, where the Python handler runs only once per
bytecode boundary that saw the flag), T CLOCK_MONOTONIC in µs when the report
was made (repro tells it from one it asked for before). A failed check prints
{"event":"corrupt","check":N} and exits 3; end of stdin exits.
"""
import ctypes
import json
import os
import select
import signal
import sys
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

SALT = "$6$reprosalt$"
state = {"handled": 0, "delivered": 0, "report": False}


def say(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def on_usr1(signum, frame):
    state["handled"] += 1
    crypt.crypt("handler", SALT)


def on_usr2(signum, frame):
    state["report"] = True


def c_localtime_handler():
    """The ctypes role's work: libc's localtime() for the main loop, and a C-called SIGUSR1 handler that calls it too."""
    libc = ctypes.CDLL(None)
    libc.localtime.argtypes = [ctypes.c_void_p]
    libc.localtime.restype = ctypes.c_void_p
    handler_now = ctypes.c_long(0)
    main_now = ctypes.c_long(0)
    handler_at = ctypes.addressof(handler_now)
    main_at = ctypes.addressof(main_now)
    localtime = libc.localtime

    def on_usr1_c(signum):
        state["handled"] += 1
        state["delivered"] += 1
        localtime(handler_at)

    handler = ctypes.CFUNCTYPE(None, ctypes.c_int)(on_usr1_c)
    libc.signal.argtypes = [ctypes.c_int, ctypes.CFUNCTYPE(None, ctypes.c_int)]
    libc.signal.restype = ctypes.c_void_p
    libc.signal(signal.SIGUSR1, handler)

    def work():
        for _ in range(100):
            localtime(main_at)
        return True

    # The callback object must outlive the loop: libc only holds its address.
    return work, handler


role = sys.argv[1] if len(sys.argv) > 1 else "python-handler"
expected = crypt.crypt("main", SALT)
if role == "ctypes-localtime":
    work, keep = c_localtime_handler()
else:
    signal.signal(signal.SIGUSR1, on_usr1)
    # One byte per delivery (the signal's number: SIGUSR2's are not counted), drained after every check (a storm's 10,000 fit in the pipe).
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_r, False)
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w, warn_on_full_buffer=False)

    def work():
        try:
            state["delivered"] += os.read(wakeup_r, 65536).count(signal.SIGUSR1)
        except BlockingIOError:
            pass
        return crypt.crypt("main", SALT) == expected
signal.signal(signal.SIGUSR2, on_usr2)
say({"event": "ready", "pid": os.getpid(), "scenario": "signal-safety", "pattern": role, "runtime": "python"})
checks = 0
while True:
    if not work():
        say({"event": "corrupt", "check": checks})
        sys.exit(3)
    checks += 1
    readable, _, _ = select.select([sys.stdin], [], [], 0)
    if readable and not os.read(sys.stdin.fileno(), 256):
        break
    if state["report"]:
        state["report"] = False
        say({"event": "alive", "checks": checks, "handled": state["handled"], "delivered": state["delivered"], "at": time.monotonic_ns() // 1000})
