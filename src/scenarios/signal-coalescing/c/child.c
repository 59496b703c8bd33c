/*
 * signal-coalescing, C: counts what its handlers see of a burst repro sends
 * while it holds the child stopped (the signals stay pending, as if blocked).
 *   broken:      counts SIGHUP handler runs as events: a standard signal
 *                pending once stands for the whole burst (1 of N).
 *   correct:     takes SIGHUP as "something happened, go look" and counts
 *                the work items in its spool directory (N of N).
 *   rt-queued:   counts SIGRTMIN+1 handler runs: real-time signals queue (N of N).
 *   rt-overflow: the same with RLIMIT_SIGPENDING lowered to 200: kill()
 *                succeeds for every signal, the ones beyond the limit are dropped.
 * SIGUSR2 prints {"event":"counted","hup":H,"rt":R,"seen":S}; end of stdin exits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile sig_atomic_t hup, rt, woke, report;

static void on_hup(int sig) { (void)sig; hup++; woke = 1; }
static void on_rt(int sig) { (void)sig; rt++; }
static void on_usr2(int sig) { (void)sig; report = 1; }

/* The work items in the spool: what a "go look" handler counts, however many signals stood for them. */
static int spooled(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e = readdir(d); e; e = readdir(d))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

int main(int argc, char **argv) {
  const char *role = argc > 1 ? argv[1] : "broken";
  const char *spool = argc > 3 && strcmp(argv[2], "--spool") == 0 ? argv[3] : NULL;
  int correct = strcmp(role, "correct") == 0;
  if (strcmp(role, "rt-overflow") == 0) {
    struct rlimit limit = { 200, 200 };
    setrlimit(RLIMIT_SIGPENDING, &limit);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_hup;
  sigaction(SIGHUP, &sa, NULL);
  sa.sa_handler = on_rt;
  sigaction(SIGRTMIN + 1, &sa, NULL);
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);
  int seen = 0;
  /* SIGUSR2 is taken only inside ppoll: a report asked for between the check and the wait would wait forever. */
  sigset_t usr2, during;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, &during);
  printf("{\"event\":\"ready\",\"pid\":%d,\"scenario\":\"signal-coalescing\",\"pattern\":\"%s\",\"runtime\":\"c\"}\n", getpid(), role);
  if (spool) printf("{\"event\":\"spool\",\"dir\":\"%s\"}\n", spool);
  fflush(stdout);
  for (;;) {
    struct pollfd in = { .fd = 0, .events = POLLIN };
    int n = ppoll(&in, 1, NULL, &during);
    if (woke && correct && spool) { woke = 0; seen = spooled(spool); }
    if (report) {
      report = 0;
      printf("{\"event\":\"counted\",\"hup\":%d,\"rt\":%d,\"seen\":%d}\n", (int)hup, (int)rt, seen);
      fflush(stdout);
    }
    if (n > 0) {
      char buf[256];
      if (read(0, buf, sizeof buf) <= 0) return 0;
    }
  }
}
