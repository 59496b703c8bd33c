"""runtime-teardown children in Python asyncio: `child.py broken|correct [--handles N]`.

Each SIGHUP is one round: a new event loop (the runtime) opens N stream
connections (a socketpair each; asyncio takes one end, the other is closed at
once), calls writer.close() on all of them, and the loop is stopped and closed.
- broken: no `await writer.wait_closed()`. writer.close() only schedules the
  transport's socket close (`_call_connection_lost`, a call_soon callback); the
  loop is stopped in the same step, so that callback never runs, and
  loop.close() throws the queued callbacks away. Each socket stays open inside
  its transport, which sits in a reference cycle with its protocol and stream
  objects: only the cycle collector frees it (with "ResourceWarning: unclosed
  transport") and closes the fd.
- correct: awaits writer.wait_closed() for every connection before the loop
  stops: the callbacks ran and every socket is closed.

Automatic garbage collection is off in this child (gc.disable()), so what a
round leaves is what the teardown left, not what a collection happened to free
by the time the harness looked: the fds stay open "until GC", and here GC never
comes. (With collection on, the same fds are closed at the next collection of
the generation holding them: the count saws up and down instead of climbing.)

Speaks repro's protocol plus phase markers; a marker with "hold" stops the
process (SIGSTOP) right after the line, and the harness resumes it (SIGCONT).
"""
import asyncio
import errno
import gc
import json
import os
import signal
import socket
import sys
import threading

role = sys.argv[1] if len(sys.argv) > 1 else ""
if role not in ("broken", "correct"):
    sys.stderr.write("usage: child.py broken|correct [--handles N]\n")
    sys.exit(2)
handles = int(sys.argv[sys.argv.index("--handles") + 1]) if "--handles" in sys.argv else 8
runtime = "python %d.%d.%d (asyncio)" % sys.version_info[:3]
gc.disable()
seq = 0


def emit(event):
    os.write(1, (json.dumps(event, separators=(",", ":")) + "\n").encode())


def phase(name):
    emit({"event": "phase", "round": seq, "name": name, "handles": handles, "hold": True})
    os.kill(os.getpid(), signal.SIGSTOP)


class RoundFailed(Exception):
    pass


async def body(loop):
    writers = []
    peers = []
    try:
        for _ in range(handles):
            ours, theirs = socket.socketpair()
            peers.append(ours)
            theirs.close()
            _, writer = await asyncio.open_unix_connection(sock=ours)
            writers.append(writer)
    except OSError as error:
        for sock in peers:
            sock.close()
        raise RoundFailed(error) from error
    phase("runtime-started")
    for writer in writers:
        writer.close()
    phase("closes-queued")
    if role == "correct":
        await asyncio.gather(*(writer.wait_closed() for writer in writers))
        phase("closes-done")
    loop.stop()


def run_round():
    global seq
    seq += 1
    try:
        loop = asyncio.new_event_loop()
    except OSError as error:
        return failed(error)
    task = loop.create_task(body(loop))
    task.add_done_callback(lambda t: t.cancelled() or t.exception() is None or loop.stop())
    loop.run_forever()
    loop.close()
    if task.done() and not task.cancelled() and task.exception() is not None:
        cause = task.exception()
        if isinstance(cause, RoundFailed):
            return failed(cause.args[0])
        raise cause
    phase("runtime-stopped")
    emit({"event": "reload", "seq": seq, "listeners": 1})


def failed(error):
    code = errno.errorcode.get(error.errno, str(error.errno))
    emit({"event": "register-failed", "seq": seq, "code": code,
          "message": "cannot start the round's runtime: %s (%s)" % (code, error.strerror)})


def leave_when_parent_goes():
    # The harness holds stdin open: end of file means it is gone, even after SIGKILL.
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os._exit(0)


signals = {signal.SIGHUP, signal.SIGTERM, signal.SIGINT}
signal.pthread_sigmask(signal.SIG_BLOCK, signals)
threading.Thread(target=leave_when_parent_goes, daemon=True).start()
emit({"event": "ready", "pid": os.getpid(), "scenario": "runtime-teardown", "pattern": role,
      "runtime": runtime, "listeners": 1})
while True:
    signum = signal.sigwait(signals)
    if signum == signal.SIGHUP:
        run_round()
    else:
        emit({"event": "shutdown", "closedFds": 0, "removedListeners": 0})
        os._exit(0)
