"""Holds about N fds of mixed kinds (pipes, eventfds, sockets, /dev/null, regular files) until stdin closes."""
import os, resource, socket, sys, tempfile

n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held, keep = [], []
tmp = tempfile.NamedTemporaryFile()
while len(held) < n:
    k = len(held) % 5
    if k == 0:
        held += os.pipe()
    elif k == 1:
        held.append(os.eventfd(0))
    elif k == 2:
        a, b = socket.socketpair(); keep += [a, b]; held += [a.fileno(), b.fileno()]
    elif k == 3:
        held.append(os.open("/dev/null", os.O_RDONLY))
    else:
        held.append(os.open(tmp.name, os.O_RDONLY))
print(len(os.listdir("/proc/self/fd")), flush=True)
sys.stdin.read()
