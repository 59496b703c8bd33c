/**
 * The few libc calls the children need, through koffi. Kept to the calls that
 * allocate or release a native wake-up channel, so the fds the harness counts
 * are ones this module made on purpose.
 */
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import type { LibraryHandle } from 'koffi';

type Koffi = typeof import('koffi');
let koffiModule: Koffi | undefined;

/**
 * koffi, loaded on the first native call rather than with this module: its
 * native binary costs 20–40 ms to load on this machine class, which a
 * one-shot `repro probe` or `repro --version` must not pay for a module it
 * only imports (NativeError).
 */
function ffi(): Koffi {
  koffiModule ??= createRequire(import.meta.url)('koffi') as Koffi;
  return koffiModule;
}

/** A failed libc call: errno as a code (`EMFILE`) and libc's own message. */
export class NativeError extends Error {
  constructor(
    /** The libc function that failed, e.g. `pipe2`. */
    readonly call: string,
    /** errno as a number. */
    readonly errno: number,
    /** errno as its symbolic name, e.g. `EMFILE`. */
    readonly code: string,
    /** strerror(errno), e.g. `Too many open files`. */
    readonly reason: string,
  ) {
    super(`${call}: ${code} (${reason})`);
    this.name = 'NativeError';
  }
}

// Linux values; pipe2/signalfd are only bound on Linux, where these hold.
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
const SIGSET_BYTES = 128;

interface Libc {
  pipe2?: (fds: number[], flags: number) => number;
  pipe: (fds: number[]) => number;
  close: (fd: number) => number;
  signalfd?: (fd: number, mask: Buffer, flags: number) => number;
  strerror: (errno: number) => string;
  linkat?: (oldDir: number, oldPath: string, newDir: number, newPath: string, flags: number) => number;
  readlinkat: (dirfd: number, path: string, buf: Buffer, size: number) => number;
  prctl?: (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;
  waitpid?: (pid: number, status: number[], options: number) => number;
}

let libc: Libc | undefined;

function libraryNames(): string[] {
  if (process.platform === 'darwin') return ['libSystem.B.dylib', '/usr/lib/libSystem.B.dylib'];
  if (process.platform === 'linux') return ['libc.so.6', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1'];
  return ['libc.so', 'libc.so.7'];
}

function loadLibc(): Libc {
  if (libc) return libc;
  let lib: LibraryHandle | undefined;
  let lastError: unknown;
  for (const name of libraryNames()) {
    try {
      lib = ffi().load(name);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (!lib) throw new Error(`cannot load libc (${libraryNames().join(', ')})`, { cause: lastError });
  const optional = <T>(signature: string): T | undefined => {
    try {
      return lib.func(signature) as T;
    } catch {
      return undefined;
    }
  };
  libc = {
    pipe2: process.platform === 'linux' ? optional('int pipe2(_Out_ int *fds, int flags)') : undefined,
    pipe: lib.func('int pipe(_Out_ int *fds)') as Libc['pipe'],
    close: lib.func('int close(int fd)') as Libc['close'],
    signalfd: process.platform === 'linux' ? optional('int signalfd(int fd, const void *mask, int flags)') : undefined,
    strerror: lib.func('const char *strerror(int errnum)') as Libc['strerror'],
    readlinkat: lib.func('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)') as Libc['readlinkat'],
    linkat: process.platform === 'linux' ? optional('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)') : undefined,
    prctl: process.platform === 'linux' ? optional('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') : undefined,
    waitpid: optional('int waitpid(int pid, _Out_ int *status, int options)'),
  };
  return libc;
}

function fail(call: string): never {
  const errno = ffi().errno();
  let code = `E${errno}`;
  try {
    // node:util through require, at the failure only: an ESM import of it builds its whole namespace (parse_args, mime…) at start-up.
    code = (createRequire(import.meta.url)('node:util') as typeof import('node:util')).getSystemErrorName(-errno);
  } catch {
    // keep the numeric form for an errno Node does not name
  }
  throw new NativeError(call, errno, code, loadLibc().strerror(errno));
}

/** Opens a pipe (pipe2 with O_CLOEXEC|O_NONBLOCK where there is one) and returns [read, write]. */
export function openPipe(): [number, number] {
  const c = loadLibc();
  const fds = [-1, -1];
  const rc = c.pipe2 ? c.pipe2(fds, O_CLOEXEC | O_NONBLOCK) : c.pipe(fds);
  if (rc !== 0) fail(c.pipe2 ? 'pipe2' : 'pipe');
  return [fds[0] as number, fds[1] as number];
}

/** Opens a signalfd for the given signal numbers (SFD_CLOEXEC|SFD_NONBLOCK). */
export function openSignalfd(signals: number[]): number {
  const c = loadLibc();
  if (!c.signalfd) throw new NativeError('signalfd', osConstants.errno.ENOSYS, 'ENOSYS', 'signalfd is Linux-only');
  const mask = Buffer.alloc(SIGSET_BYTES);
  for (const signo of signals) {
    const bit = signo - 1;
    mask[bit >> 3] = (mask[bit >> 3] ?? 0) | (1 << (bit & 7));
  }
  const fd = c.signalfd(-1, mask, O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail('signalfd');
  return fd;
}

/** close(2); a failure is reported, never ignored. */
export function closeFd(fd: number): void {
  if (loadLibc().close(fd) !== 0) fail('close');
}

const AT_FDCWD = -100;
const AT_SYMLINK_FOLLOW = 0x400;

/** Gives an O_TMPFILE fd a name (Linux): linkat through /proc/self/fd. Throws NativeError. */
export function linkFd(fd: number, newPath: string): void {
  const c = loadLibc();
  if (!c.linkat) throw new NativeError('linkat', osConstants.errno.ENOSYS, 'ENOSYS', 'linkat is bound on Linux only');
  if (c.linkat(AT_FDCWD, `/proc/self/fd/${fd}`, AT_FDCWD, newPath, AT_SYMLINK_FOLLOW) !== 0) fail('linkat');
}

/**
 * A readlinkat(2) relative to an open directory fd, reusing one buffer: the
 * fd probe's hot loop (about 25% faster than fs.readlinkSync on a full path,
 * which walks /proc/PID/fd again for every fd). Returns undefined where libc
 * cannot be loaded; the caller falls back to fs.readlinkSync. The function
 * returns null for an entry that vanished (ENOENT) and throws NativeError otherwise.
 */
export function readlinkAtFunction(): ((dirfd: number, name: string) => string | null) | undefined {
  let c: Libc;
  try {
    c = loadLibc();
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(4096);
  return (dirfd, name) => {
    const n = c.readlinkat(dirfd, name, buf, buf.length);
    if (n < 0) {
      if (ffi().errno() === osConstants.errno.ENOENT) return null;
      fail('readlinkat');
    }
    return buf.toString('utf8', 0, n);
  };
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

/**
 * prctl(PR_SET_CHILD_SUBREAPER): while on, an orphan below this process is
 * re-parented here instead of to init. Throws NativeError where it fails
 * (not Linux, no libc).
 */
export function setChildSubreaper(on: boolean): void {
  const c = loadLibc();
  if (!c.prctl) throw new NativeError('prctl', osConstants.errno.ENOSYS, 'ENOSYS', 'PR_SET_CHILD_SUBREAPER is Linux-only');
  if (c.prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) !== 0) fail('prctl');
}

/**
 * waitpid(pid, WNOHANG): reaps `pid` if it is an exited child of this
 * process; true when it was reaped. For orphans re-parented here, which
 * Node does not reap (libuv waits only for the pids it spawned).
 */
export function reapChild(pid: number): boolean {
  const c = loadLibc();
  if (!c.waitpid) return false;
  return c.waitpid(pid, [0], WNOHANG) === pid;
}
