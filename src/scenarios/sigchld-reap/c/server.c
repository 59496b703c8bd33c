/*
 * sigchld-reap, C: a server that forks a burst of short-lived children on
 * SIGUSR1 (they all exit together) and reaps them from its SIGCHLD handler.
 *   broken:  one waitpid() per SIGCHLD. Standard signals coalesce, so a burst
 *            of exits delivers fewer SIGCHLDs than children: zombies stay.
 *   correct: while (waitpid(-1, WNOHANG) > 0): every exited child, per signal.
 * SIGUSR2 prints {"event":"reaped","reaped":N}; end of stdin exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int correct;
static volatile sig_atomic_t reaped;
static volatile sig_atomic_t burst_asked;
static volatile sig_atomic_t report_asked;

static void on_chld(int sig) {
  (void)sig;
  int saved = errno;
  if (correct) {
    while (waitpid(-1, NULL, WNOHANG) > 0) reaped++;
  } else if (waitpid(-1, NULL, WNOHANG) > 0) {
    reaped++;
  }
  errno = saved;
}

static void on_usr1(int sig) { (void)sig; burst_asked = 1; }
static void on_usr2(int sig) { (void)sig; report_asked = 1; }

static void burst(int children) {
  /* Forked with SIGCHLD blocked, as servers fork with signals masked, and unblocked once every child is at
     its _exit: the exits then wait as one pending SIGCHLD, however the machine schedules them. Without the
     mask a starved machine could run this handler between exits, one SIGCHLD each, and nothing coalesced. */
  sigset_t chld, before;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &before);
  int gate[2], done[2];
  if (pipe(gate) != 0 || pipe(done) != 0) { perror("pipe"); exit(1); }
  int forked = 0;
  for (int i = 0; i < children; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      char c;
      close(gate[1]);
      close(done[0]);
      /* Every child waits for the gate to close, so they exit in one burst. */
      while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
      (void)!write(done[1], "x", 1);
      _exit(0);
    }
    if (pid > 0) forked++;
  }
  close(gate[0]);
  close(gate[1]);
  close(done[1]);
  char buf[64];
  for (int got = 0; got < forked;) {
    ssize_t n = read(done[0], buf, sizeof buf);
    if (n > 0) got += (int)n;
    else if (n == 0 || errno != EINTR) break;
  }
  close(done[0]);
  /* Each child wrote its byte just before _exit: give the exits a moment to land. */
  struct timespec settle = { 0, 50 * 1000 * 1000 };
  while (nanosleep(&settle, &settle) != 0 && errno == EINTR) {}
  sigprocmask(SIG_SETMASK, &before, NULL);
  printf("{\"event\":\"forked\",\"children\":%d}\n", forked);
  fflush(stdout);
}

int main(int argc, char **argv) {
  correct = argc > 1 && strcmp(argv[1], "correct") == 0;
  int children = argc > 2 ? atoi(argv[2]) : 20;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sa.sa_handler = on_chld;
  sigaction(SIGCHLD, &sa, NULL);
  sa.sa_flags = 0;
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);
  /* USR1 and USR2 are taken only inside ppoll: a request never lands between the check and the wait. */
  sigset_t requests, during;
  sigemptyset(&requests);
  sigaddset(&requests, SIGUSR1);
  sigaddset(&requests, SIGUSR2);
  sigprocmask(SIG_BLOCK, &requests, &during);
  printf("{\"event\":\"ready\",\"pid\":%d,\"scenario\":\"sigchld-reap\",\"pattern\":\"%s\",\"runtime\":\"c\"}\n", getpid(), correct ? "correct" : "broken");
  fflush(stdout);
  for (;;) {
    struct pollfd in = { .fd = 0, .events = POLLIN };
    int n = ppoll(&in, 1, NULL, &during);
    if (burst_asked) { burst_asked = 0; burst(children); }
    if (report_asked) {
      report_asked = 0;
      printf("{\"event\":\"reaped\",\"reaped\":%d}\n", (int)reaped);
      fflush(stdout);
    }
    if (n > 0) {
      char buf[256];
      if (read(0, buf, sizeof buf) <= 0) return 0;
    }
  }
}
