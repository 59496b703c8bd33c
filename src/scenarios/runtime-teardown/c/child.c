/*
 * runtime-teardown, C with io_uring: `child broken|correct [--handles N]`.
 *
 * Each SIGHUP is one round: set up a ring (the runtime), open N files (its own
 * executable, read-only), queue one IORING_OP_CLOSE SQE per fd, then stop the
 * runtime.
 * - broken: the SQEs are published to the ring (the kernel-visible SQ tail is
 *   advanced, as the io-uring crate's SubmissionQueue::sync does) but never
 *   submitted with io_uring_enter, and the ring is torn down
 *   (io_uring_queue_exit): the kernel drops SQEs it was never asked to
 *   consume, so the N fds stay open for the life of the process. This is
 *   MonoIO 0.2.1's mechanism (monoio#229: Drop pushed a close SQE that nothing
 *   submitted once the outer future had returned).
 * - correct: submits the SQEs and waits for their N completions before the
 *   teardown (monoio PR #240: submit in the ring's drop).
 *
 * Speaks repro's protocol (docs/protocol.md) on stdout, plus phase markers of
 * its own: {"event":"phase","round":k,"name":...,"hold":true,"ring":FD}. A
 * marker with hold stops this process (SIGSTOP) right after the line is
 * written, so the harness can read /proc/PID/fd and /proc/PID/fdinfo/FD while
 * nothing moves; it resumes us with SIGCONT.
 *
 * When io_uring cannot be used here (kernel.io_uring_disabled, a seccomp
 * filter, an old kernel) the child says so on stderr and exits 3 before
 * `ready`: the run cannot show anything, and must not pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <fcntl.h>

static int broken;
static unsigned handles = 8;
static unsigned seq;
/* fds this process left open: the closes it queued and never submitted. */
static unsigned left_open;

/* One protocol line, in one write. */
static void emit(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
  line[n++] = '\n';
  ssize_t off = 0;
  while (off < n) {
    ssize_t w = write(1, line + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      _exit(0); /* the harness is gone */
    }
    off += w;
  }
}

/* A phase marker the harness snapshots at: write it, then stop until SIGCONT. */
static void phase(const char *name, int ring_fd) {
  if (ring_fd >= 0)
    emit("{\"event\":\"phase\",\"round\":%u,\"name\":\"%s\",\"handles\":%u,\"ring\":%d,\"hold\":true}", seq, name, handles, ring_fd);
  else
    emit("{\"event\":\"phase\",\"round\":%u,\"name\":\"%s\",\"handles\":%u,\"hold\":true}", seq, name, handles);
  raise(SIGSTOP);
}

static const char *errno_name(int e) {
  switch (e) {
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    default: return "EIO";
  }
}

static void failed(const char *what, int e) {
  emit("{\"event\":\"register-failed\",\"seq\":%u,\"code\":\"%s\",\"message\":\"cannot %s: %s (%s)\"}", seq, errno_name(e), what, errno_name(e), strerror(e));
}

/* Publishes the queued SQEs to the kernel-visible tail without io_uring_enter. */
static void publish(struct io_uring *ring) {
  io_uring_smp_store_release(ring->sq.ktail, ring->sq.sqe_tail);
}

static void round_(void) {
  seq += 1;
  struct io_uring ring;
  int r = io_uring_queue_init(handles, &ring, 0);
  if (r < 0) {
    failed("set up the ring", -r);
    return;
  }
  phase("runtime-started", ring.ring_fd);
  int fds[4096];
  for (unsigned i = 0; i < handles; i++) {
    fds[i] = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      int e = errno;
      for (unsigned j = 0; j < i; j++) close(fds[j]);
      io_uring_queue_exit(&ring);
      failed("open the round's files", e);
      return;
    }
  }
  for (unsigned i = 0; i < handles; i++) io_uring_prep_close(io_uring_get_sqe(&ring), fds[i]);
  publish(&ring);
  phase("closes-queued", ring.ring_fd);
  if (!broken) {
    r = io_uring_submit_and_wait(&ring, handles);
    if (r < 0) {
      fprintf(stderr, "io_uring_submit_and_wait: %s\n", strerror(-r));
      exit(1);
    }
    for (unsigned done = 0; done < handles; done++) {
      struct io_uring_cqe *cqe;
      r = io_uring_wait_cqe(&ring, &cqe);
      if (r < 0) {
        fprintf(stderr, "io_uring_wait_cqe: %s\n", strerror(-r));
        exit(1);
      }
      if (cqe->res < 0) fprintf(stderr, "close completed with %s\n", strerror(-cqe->res));
      io_uring_cqe_seen(&ring, cqe);
    }
    phase("closes-done", ring.ring_fd);
  }
  if (broken) left_open += handles;
  io_uring_queue_exit(&ring);
  phase("runtime-stopped", -1);
  emit("{\"event\":\"reload\",\"seq\":%u,\"listeners\":1}", seq);
}

/* io_uring usable here? One real io_uring_setup; the sysctl only explains a refusal. */
static void require_io_uring(void) {
  struct io_uring probe;
  int r = io_uring_queue_init(2, &probe, 0);
  if (r == 0) {
    io_uring_queue_exit(&probe);
    return;
  }
  char sysctl[16] = "";
  FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
  if (f) {
    if (fgets(sysctl, sizeof sysctl, f)) sysctl[strcspn(sysctl, "\n")] = 0;
    fclose(f);
  }
  const char *why = sysctl[0] && strcmp(sysctl, "0") != 0 ? "kernel.io_uring_disabled is " : "a seccomp filter or an old kernel refuses it; kernel.io_uring_disabled is ";
  fprintf(stderr, "io_uring is not available here: io_uring_setup failed with %s (%s); %s%s\n", errno_name(-r), strerror(-r), why, sysctl[0] ? sysctl : "absent");
  exit(3);
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "broken") != 0 && strcmp(argv[1], "correct") != 0)) {
    fprintf(stderr, "usage: child broken|correct [--handles N]\n");
    return 2;
  }
  broken = strcmp(argv[1], "broken") == 0;
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], "--handles") == 0) handles = (unsigned)atoi(argv[i + 1]);
  if (handles < 1 || handles > 4096) {
    fprintf(stderr, "--handles must be 1..4096\n");
    return 2;
  }
  require_io_uring();

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) {
    perror("signalfd");
    return 1;
  }
  struct utsname u;
  uname(&u);
  emit("{\"event\":\"ready\",\"pid\":%d,\"scenario\":\"runtime-teardown\",\"pattern\":\"%s\",\"runtime\":\"c io_uring (liburing, gcc %s, Linux %s)\",\"listeners\":1}",
       getpid(), argv[1], __VERSION__, u.release);

  struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
  for (;;) {
    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (pfd[1].revents) {
      /* stdin: the harness holds it open and writes nothing; EOF (or an error) means it is gone. */
      char buf[256];
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) return 0;
    }
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) != sizeof si) continue;
      if (si.ssi_signo == SIGHUP) {
        round_();
      } else {
        emit("{\"event\":\"shutdown\",\"closedFds\":0,\"removedListeners\":0,\"leakedFds\":%u}", left_open);
        return 0;
      }
    }
  }
}
