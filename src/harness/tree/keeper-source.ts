/**
 * The keeper's C source, compiled on first use by keeper.ts (kept here as a
 * string so that the bundle and dist/ need no extra file).
 *
 *   repro-keeper [--parent PID] [--grace-ms N] -- COMMAND [ARG...]
 *
 * The keeper is a child subreaper (prctl PR_SET_CHILD_SUBREAPER): it forks
 * COMMAND (in its own process group) and every orphan of the tree, daemons
 * that double-fork and setsid included, is re-parented to it, so the whole
 * tree stays below it and it reaps them (Node reaps only the children it
 * spawned itself: an orphan re-parented to a Node subreaper stays a zombie).
 *
 * It ends the tree when repro goes: PR_SET_PDEATHSIG(SIGUSR1) and, when fd 3
 * is open (a socket or pipe from repro), end of file on it. SIGUSR1 (or
 * "kill\n" on fd 3) = SIGKILL every descendant now, re-walking /proc until
 * no child is left (processes forked meanwhile are re-parented to the keeper
 * and found on the next walk). SIGTERM/SIGINT/SIGHUP/SIGQUIT (or "term\n") =
 * SIGTERM every descendant, SIGKILL whatever is left after --grace-ms.
 *
 * It exits when it has no child left, mirroring COMMAND's own end: the same
 * exit code, or the same signal (raised on itself). On fd 3 it reports
 * "program PID" once and "exit PID code N" / "exit PID signal N" for each
 * child it reaps.
 */
export const KEEPER_SOURCE = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t self, program = -1;
static int program_status = -1, report_fd = -1;

static void report(const char *fmt, ...) {
    if (report_fd < 0) return;
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && write(report_fd, line, (size_t)n) < 0) report_fd = -1;
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Every descendant of the keeper, from the ppid field of /proc/N/stat. */
static int descendants(pid_t **out) {
    static pid_t *pids, *ppids;
    static size_t cap;
    size_t n = 0;
    DIR *proc = opendir("/proc");
    if (!proc) return 0;
    struct dirent *e;
    while ((e = readdir(proc))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0) continue;
        buf[len] = 0;
        char *close_paren = strrchr(buf, ')');
        if (!close_paren) continue;
        char state;
        int ppid;
        if (sscanf(close_paren + 2, "%c %d", &state, &ppid) != 2) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            pids = realloc(pids, cap * sizeof *pids);
            ppids = realloc(ppids, cap * sizeof *ppids);
            if (!pids || !ppids) abort();
        }
        pids[n] = atoi(e->d_name);
        ppids[n] = ppid;
        n++;
    }
    closedir(proc);
    /* A bitmap by pid of what is below the keeper; passes until nothing is added (one per tree level). */
    static unsigned char *below;
    static size_t below_bytes;
    pid_t max_pid = self;
    for (size_t i = 0; i < n; i++) if (pids[i] > max_pid) max_pid = pids[i];
    size_t need = (size_t)max_pid / 8 + 1;
    if (need > below_bytes) { below = realloc(below, need); below_bytes = need; if (!below) abort(); }
    memset(below, 0, below_bytes);
#define IS_BELOW(p) (below[(p) / 8] & (1 << ((p) % 8)))
    int changed = 1, found = 0;
    while (changed) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (IS_BELOW(pids[i])) continue;
            if (ppids[i] == self || (ppids[i] > 0 && ppids[i] <= max_pid && IS_BELOW(ppids[i]))) {
                below[pids[i] / 8] |= (unsigned char)(1 << (pids[i] % 8));
                changed = 1;
                found++;
            }
        }
    }
    static pid_t *result;
    result = realloc(result, (found ? found : 1) * sizeof *result);
    int k = 0;
    for (size_t i = 0; i < n; i++) if (IS_BELOW(pids[i])) result[k++] = pids[i];
    *out = result;
    return k;
}

static void signal_tree(int sig) {
    pid_t *pids;
    int n = descendants(&pids);
    for (int i = 0; i < n; i++) kill(pids[i], sig);
}

/* Reaps what has exited; returns 0 when no child is left (ECHILD). */
static int reap(void) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            if (pid == program) program_status = status;
            if (WIFSIGNALED(status)) report("exit %d signal %d\n", pid, WTERMSIG(status));
            else report("exit %d code %d\n", pid, WEXITSTATUS(status));
            continue;
        }
        if (pid == 0) return 1;
        if (errno == EINTR) continue;
        return 0;
    }
}

/* SIGKILL every descendant until none is left: orphans of the killed are re-parented here and found on the next pass. */
static void kill_all(void) {
    while (reap()) {
        signal_tree(SIGKILL);
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, 0);
    }
}

static void finish(void) {
    report("empty\n");
    if (program_status < 0) _exit(125);
    if (WIFEXITED(program_status)) _exit(WEXITSTATUS(program_status));
    int sig = WTERMSIG(program_status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, 0);
    raise(sig);
    _exit(128 + sig);
}

int main(int argc, char **argv) {
    pid_t parent = 0;
    long grace_ms = 2000;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--parent") && i + 1 < argc) parent = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--grace-ms") && i + 1 < argc) grace_ms = atol(argv[++i]);
        else if (!strcmp(argv[i], "--")) { i++; break; }
        else break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: repro-keeper [--parent PID] [--grace-ms N] -- COMMAND [ARG...]\n");
        return 2;
    }
    self = getpid();
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) { perror("repro-keeper: PR_SET_CHILD_SUBREAPER"); return 125; }
    sigset_t handled, original;
    sigemptyset(&handled);
    int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGPIPE};
    for (size_t s = 0; s < sizeof sigs / sizeof *sigs; s++) sigaddset(&handled, sigs[s]);
    sigprocmask(SIG_BLOCK, &handled, &original);
    int sfd = signalfd(-1, &handled, SFD_CLOEXEC);
    if (sfd < 0) { perror("repro-keeper: signalfd"); return 125; }
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    /* The parent may have died before PR_SET_PDEATHSIG: then nobody watches, start nothing. */
    if (parent > 0 && getppid() != parent) return 125;
    if (fcntl(3, F_GETFD) >= 0) {
        report_fd = 3;
        fcntl(3, F_SETFD, FD_CLOEXEC);
    }
    program = fork();
    if (program < 0) { perror("repro-keeper: fork"); return 125; }
    if (program == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_SETMASK, &original, 0);
        execvp(argv[i], argv + i);
        fprintf(stderr, "repro-keeper: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    setpgid(program, program);
    report("program %d\n", program);

    long deadline = -1;
    for (;;) {
        struct pollfd fds[2] = {{sfd, POLLIN, 0}, {report_fd, POLLIN, 0}};
        int timeout = deadline < 0 ? -1 : (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0);
        int ready = poll(fds, report_fd >= 0 ? 2 : 1, timeout);
        if (ready < 0 && errno != EINTR) kill_all();
        if (deadline >= 0 && now_ms() >= deadline) kill_all();
        if (ready > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo info;
            while (read(sfd, &info, sizeof info) == sizeof info) {
                int sig = (int)info.ssi_signo;
                if (sig == SIGUSR1) kill_all();
                else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
                    if (deadline < 0) { signal_tree(SIGTERM); deadline = now_ms() + grace_ms; }
                }
                break; /* one at a time: poll again */
            }
        }
        if (ready > 0 && report_fd >= 0 && fds[1].revents) {
            char cmd[64];
            ssize_t n = read(report_fd, cmd, sizeof cmd - 1);
            if (n <= 0) { report_fd = -1; kill_all(); }
            else {
                cmd[n] = 0;
                if (strstr(cmd, "kill")) kill_all();
                else if (strstr(cmd, "term") && deadline < 0) { signal_tree(SIGTERM); deadline = now_ms() + grace_ms; }
            }
        }
        if (!reap()) finish();
    }
}
`;
