/**
 * The calls `--attribute` traces: every call that creates or closes an fd
 * (issue 14's list and a few rarer ones), and the process-structure calls
 * the fd tables follow (clone/fork for threads and copies, execve for
 * close-on-exec). A `?` tells strace to skip a name this architecture lacks
 * (arm64 has no `open`, `pipe`, `dup2`, `fork`).
 */

/** Calls whose return value is a new fd. */
export const RETURNS_FD = new Set([
  'open', 'openat', 'openat2', 'creat', 'open_by_handle_at', 'socket', 'accept', 'accept4', 'signalfd', 'signalfd4', 'eventfd', 'eventfd2',
  'epoll_create', 'epoll_create1', 'inotify_init', 'inotify_init1', 'timerfd_create', 'memfd_create', 'pidfd_open', 'pidfd_getfd',
  'io_uring_setup', 'fanotify_init', 'userfaultfd', 'perf_event_open', 'dup',
]);

/** Calls that write two new fds into an array argument (its index). */
export const ARRAY_OF_FDS: Record<string, number> = { pipe: 0, pipe2: 0, socketpair: 3 };

/** Calls that replace their second argument's fd (closing what was there). */
export const DUP_TO = new Set(['dup2', 'dup3']);

/** Calls that start a thread or a process. */
export const CLONES = new Set(['clone', 'clone3', 'fork', 'vfork']);

/** Names every x86-64 and arm64 kernel has; the rest get `?`. */
const EVERYWHERE = new Set([
  'openat', 'socket', 'socketpair', 'accept', 'accept4', 'signalfd4', 'eventfd2', 'epoll_create1', 'inotify_init1', 'timerfd_create',
  'memfd_create', 'pipe2', 'dup', 'dup3', 'fcntl', 'close', 'recvmsg', 'clone', 'execve', 'ptrace',
]);

/** The `-e trace=` list. */
export function traceExpression(): string {
  // ptrace: a program that traces cannot be traced as well (tracker.ts, ptraceUse).
  const names = [...RETURNS_FD, ...Object.keys(ARRAY_OF_FDS), ...DUP_TO, 'fcntl', 'close', 'close_range', 'recvmsg', ...CLONES, 'execve', 'execveat', 'ptrace'];
  return [...new Set(names)].map((n) => (EVERYWHERE.has(n) ? n : `?${n}`)).join(',');
}

export interface StraceArgvOptions {
  /** strace's path. */
  strace: string;
  /** Where strace writes (a FIFO repro reads). */
  output: string;
  /** The reload signal, e.g. `SIGHUP`: its deliveries mark the reloads. */
  signal: string;
  /** -k: a stack per call (strace built with an unwinder). */
  stacks: boolean;
}

/**
 * strace in front of the program. `-DD`: the tracer is a detached
 * grandchild in its own process group, so the program keeps the pid the
 * keeper reports and a signal to the program's group does not reach the
 * tracer; `-f` follows threads and children; `-y` prints what each fd is
 * (matched against the survivors' identities); `-q` drops attach messages
 * but keeps `+++ exited` lines (a process's fds close then);
 * `--seccomp-bpf` stops only at the traced calls.
 */
export function straceArgv(command: readonly string[], options: StraceArgvOptions): string[] {
  return [
    options.strace,
    '-DD',
    '-f',
    ...(options.stacks ? ['-k'] : []),
    '-y',
    '-q',
    // Paths and argv up to 128 characters (strace cuts strings at 32 by default).
    '-s',
    '128',
    '--seccomp-bpf',
    '-e',
    `trace=${traceExpression()}`,
    '-e',
    `signal=${options.signal.replace(/^SIG/, '')}`,
    '-o',
    options.output,
    '--',
    ...command,
  ];
}
