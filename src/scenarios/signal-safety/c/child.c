/*
 * signal-safety, C: a main loop and a SIGUSR1 handler that share work, under
 * a storm of SIGUSR1 sent by repro. The role is the first argument:
 *   broken:    the handler calls crypt(), which returns a static buffer the
 *              main loop's own crypt() result lives in: the main loop's check
 *              of that result fails (corruption).
 *   localtime: the handler calls localtime(); the main loop does too, and a
 *              signal that lands while it holds glibc's tz lock makes the
 *              handler wait for that lock forever (deadlock).
 *   malloc:    the handler malloc()s (and keeps) a block; the main loop
 *              malloc()s and free()s blocks too, with a second thread alive so
 *              glibc locks its arena: a signal that lands while the main loop
 *              holds the arena lock makes the handler wait for it forever
 *              (deadlock). The block is not freed: a malloc+free in the handler
 *              at once leaves the heap as it was and survived (issue 23).
 *   correct:   self-pipe: the handler only write()s a byte; the main loop
 *              reads it and does the handler's crypt() itself.
 * SIGUSR2 asks for {"event":"alive","checks":N,"handled":H,"delivered":H,"at":T} (the handler runs
 * once per delivery: both counts are its runs; T is CLOCK_MONOTONIC in µs, when the report was
 * made, so repro knows it from one asked before); a failed check prints
 * {"event":"corrupt",...} and exits 3; end of stdin exits.
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *SALT = "$6$reprosalt$";
static int role_localtime, role_correct, role_malloc;
/* What the malloc handler keeps, so the compiler cannot drop its malloc(). */
static void *volatile kept;
/* The main loop's block, for the same reason. */
static void *volatile sink;
static int wake[2];
static volatile sig_atomic_t report;
static volatile sig_atomic_t handled;

static void on_usr1(int sig) {
  (void)sig;
  int saved = errno;
  handled++;
  if (role_correct) {
    char b = 1;
    (void)!write(wake[1], &b, 1);
  } else if (role_malloc) {
    /* Above tcache's largest size (1,032 bytes): served from the arena, under its lock. */
    kept = malloc(4096);
  } else if (role_localtime) {
    time_t now = time(NULL);
    (void)localtime(&now);
  } else {
    (void)crypt("handler", SALT);
  }
  errno = saved;
}

static void on_usr2(int sig) { (void)sig; report = 1; }

/* The second thread: with one thread glibc skips the arena lock (SINGLE_THREAD_P). It blocks
 * SIGUSR1, so every signal of the storm runs its handler on the main thread. */
static void *idler(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

/* stdin ended (the harness is gone) or SIGUSR2 asked for a report: checked between units of work. */
static void between(long checks) {
  struct pollfd in = { .fd = 0, .events = POLLIN };
  if (poll(&in, 1, 0) > 0) {
    char buf[64];
    if (read(0, buf, sizeof buf) <= 0) exit(0);
  }
  if (report) {
    report = 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf("{\"event\":\"alive\",\"checks\":%ld,\"handled\":%d,\"delivered\":%d,\"at\":%lld}\n", checks, (int)handled, (int)handled,
           (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  const char *role = argc > 1 ? argv[1] : "broken";
  role_localtime = strcmp(role, "localtime") == 0;
  role_correct = strcmp(role, "correct") == 0;
  role_malloc = strcmp(role, "malloc") == 0;
  if (role_malloc) {
    /* With blocks of 64-96 KiB, every free() gives the heap's top back and every malloc() takes it again: a
     * brk() under the arena lock (strace: nearly all of the loop's syscalls), where a signal lands on the way
     * back from the kernel, like localtime()'s stat of /etc/localtime under the tz lock. With 2-34 KiB
     * blocks and no brk(), a storm under load found the lock free in 1 of 30 trials. */
    mallopt(M_TRIM_THRESHOLD, 0);
    mallopt(M_TOP_PAD, 0);
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, &old);
    pthread_t t;
    if (pthread_create(&t, NULL, idler, NULL) != 0) { perror("pthread_create"); return 1; }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) { perror("pipe2"); return 1; }
  char expected[256];
  snprintf(expected, sizeof expected, "%s", crypt("main", SALT));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);
  printf("{\"event\":\"ready\",\"pid\":%d,\"scenario\":\"signal-safety\",\"pattern\":\"%s\",\"runtime\":\"c\"}\n", getpid(), role);
  fflush(stdout);
  for (long checks = 0;; checks++) {
    if (role_localtime) {
      time_t now = time(NULL);
      (void)localtime(&now);
    } else if (role_malloc) {
      /* Sizes above tcache's and the trim's 64 KiB, below the mmap threshold: each malloc() and free() takes the arena lock. A batch
       * per check, so the loop spends its time there rather than in between()'s poll(), where a signal
       * would find no lock held. */
      for (int i = 0; i < 256; i++) {
        /* Through a volatile pointer: gcc -O2 drops a malloc()/free() pair whose block does not escape. */
        sink = malloc(65536 + (size_t)((checks + i) % 64) * 512);
        free(sink);
      }
    } else {
      const char *got = crypt("main", SALT);
      if (strcmp(got, expected) != 0) {
        printf("{\"event\":\"corrupt\",\"check\":%ld}\n", checks);
        fflush(stdout);
        return 3;
      }
    }
    if (role_correct) {
      char b[256];
      /* The handler's work, done here in the main loop, once per batch of wake-ups. */
      if (read(wake[0], b, sizeof b) > 0) (void)crypt("handler", SALT);
    }
    between(checks);
  }
}
