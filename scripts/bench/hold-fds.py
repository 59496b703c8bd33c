"""Holds about N fds of mixed kinds (pipes, eventfds, sockets, /dev/null, regular files) until stdin closes.
With a second argument P, the N fds are spread over a tree of P processes (this one and P - 1 forked
children, each holding its share); every process takes SIGHUP (it does nothing), so `repro watch --pid`
can reload the tree. Prints this process's own fd count once every process holds its share."""
import os, resource, signal, socket, sys, tempfile

n = int(sys.argv[1])
procs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
signal.signal(signal.SIGHUP, lambda *_: None)
held, keep = [], []
tmp = tempfile.NamedTemporaryFile()


def hold(count):
    while len(held) < count:
        k = len(held) % 5
        if k == 0:
            held.extend(os.pipe())
        elif k == 1:
            held.append(os.eventfd(0))
        elif k == 2:
            a, b = socket.socketpair(); keep.extend([a, b]); held.extend([a.fileno(), b.fileno()])
        elif k == 3:
            held.append(os.open("/dev/null", os.O_RDONLY))
        else:
            held.append(os.open(tmp.name, os.O_RDONLY))


share = n // procs
if procs > 1:
    ready_r, ready_w = os.pipe()
    for _ in range(procs - 1):
        if os.fork() == 0:
            os.close(ready_r)
            hold(share)
            os.write(ready_w, b".")
            os.close(ready_w)
            sys.stdin.read()
            os._exit(0)
    os.close(ready_w)
    got = 0
    while got < procs - 1:
        got += len(os.read(ready_r, procs))
    os.close(ready_r)
hold(n - share * (procs - 1))
print(len(os.listdir("/proc/self/fd")), flush=True)
sys.stdin.read()
