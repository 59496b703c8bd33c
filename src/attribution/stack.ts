/**
 * Which frames of a `-k` stack to show (pure). strace lists the innermost
 * frame first (the libc wrapper of the call), then its callers out to
 * `_start`. Shown: the frames of the program itself, innermost first; folded:
 * libc, the dynamic loader, the vdso, other shared libraries, and a compiled
 * runtime's own frames (Rust std/core/alloc and Tokio's scheduler and
 * blocking pool, Go runtime/syscall). For an interpreter (python, node,
 * ruby…) the program's own code has no native frames: the runtime's frames
 * nearest the call are shown instead (`node::fs::Open`, `uv_pipe`), marked
 * `runtime`; a run of frames with the same object and symbol (a stripped
 * library's functions all carry its nearest exported symbol, an
 * interpreter's trampolines repeat) counts once. The JVM's stacks end in JIT
 * code strace cannot unwind, so they are known by their libraries: the JNI
 * frames (`Java_sun_nio_fs_LinuxWatchService_inotifyInit`) name the Java
 * API and are shown as `sun.nio.fs.LinuxWatchService.inotifyInit`; libjvm's
 * own frames are the JVM's, shown only when nothing else is there.
 *
 * A call that ran on a runtime's worker pool (libuv's threadpool for Node's
 * async fs calls, Tokio's blocking pool for tokio::fs and spawn_blocking) has
 * the pool's thread in its stack, not the code that asked for it: `pool`
 * says so, so a view can say where to look instead.
 */
import type { Frame } from './strace-line.js';

export type FrameOrigin = 'program' | 'runtime' | 'none';

/** A runtime's worker pool that made a call for code on another thread. */
export type WorkerPool = 'libuv-threadpool' | 'tokio-blocking-pool';

export interface ShownStack {
  frames: Frame[];
  origin: FrameOrigin;
  /** Frames not shown. */
  folded: number;
  /** Set when the call ran on a runtime's worker pool (the caller is on another thread). */
  pool?: WorkerPool;
}

/** At most this many frames are kept per call site. */
export const MAX_SHOWN_FRAMES = 4;

const INTERPRETER = /^(?:python[\d.]*m?|pypy[\d.]*|node|nodejs|bun|deno|ruby[\d.]*|perl[\d.]*|php[\d.]*|lua[\d.]*|luajit|java|bash|dash|sh|zsh|tclsh[\d.]*|erl|beam\.smp)$/;
/** Libraries that are the platform, not the program: never shown. */
const SYSTEM_LIBRARY = /(?:^|\/)(?:ld-linux[^/]*|ld-musl[^/]*|libc[.-][^/]*|libpthread[.-][^/]*|libdl[.-][^/]*|librt[.-][^/]*|libm[.-][^/]*|libgcc_s[.-][^/]*|libstdc\+\+[^/]*|\[vdso\])$/;
/** A compiled runtime's own frames inside the program's executable. */
const RUNTIME_SYMBOL = /^(?:_start$|__libc_start|_init$|<?(?:std|core|alloc|tokio::runtime|tokio::loom|tokio::macros|mio)::|__rust|rust_|libc::|runtime\.|syscall\.|internal\/|golang\.org\/x\/sys|os\.(?:Open|openFile|Pipe|NewFile|newFile)|uv_|uv__)/;
/** The JVM's libraries (a JDK's lib/ directory) and its JNI entry points. */
const JVM_LIBRARY = /\/lib\/(?:server\/|client\/)?lib(?:jvm|java|nio|net|jli|zip|jimage|verify|management|extnet)\.so$/;
const JNI_SYMBOL = /^Java_/;
const LIBJVM = /\/libjvm\.so$/;
/** libuv's threadpool (`worker` in threadpool.c runs `uv__fs_work` for an async fs request). */
const LIBUV_POOL = /^uv__(?:fs_work|work_done|queue_work)$|^worker$/;
/** Tokio's blocking pool (tokio::fs and spawn_blocking run there). */
const TOKIO_POOL = /^<?tokio::runtime::blocking::/;

/** Basename of a path. */
function base(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The executable of a stack: the object of its outermost frame (`_start`) when that is not a shared library. */
export function executableOf(frames: readonly Frame[]): string | undefined {
  for (let i = frames.length - 1; i >= 0; i--) {
    const object = (frames[i] as Frame).object;
    if (object.startsWith('/') && !/\.so(?:\.|$)/.test(base(object))) return object;
  }
  return undefined;
}

/** Whether an executable is an interpreter or VM whose program has no native frames. */
export function isInterpreter(executable: string | undefined): boolean {
  return executable !== undefined && INTERPRETER.test(base(executable));
}

/**
 * A JNI function's Java name: `Java_sun_nio_fs_LinuxWatchService_inotifyInit`
 * → `sun.nio.fs.LinuxWatchService.inotifyInit` (`_1` is `_`, `_0xxxx` a
 * UTF-16 unit; an overload's `__signature` is dropped).
 */
export function javaName(symbol: string): string {
  const body = symbol.replace(/^Java_/, '').replace(/__.*$/, '');
  const parts = body.split(/_(?![0-3])/);
  const unescape = (part: string) => part.replace(/_0([0-9a-f]{4})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))).replace(/_1/g, '_').replace(/_2/g, ';').replace(/_3/g, '[');
  return parts.map(unescape).join('.');
}

/** The pool a stack ran on, if any. */
function poolOf(frames: readonly Frame[], interpreted: boolean): WorkerPool | undefined {
  if (frames.some((f) => TOKIO_POOL.test(f.symbol))) return 'tokio-blocking-pool';
  // libuv's `worker` is a static function: only an interpreter's (node's) executable or libuv itself names it.
  if (interpreted && frames.some((f) => f.symbol === 'uv__fs_work') && frames.some((f) => LIBUV_POOL.test(f.symbol))) return 'libuv-threadpool';
  return undefined;
}

/** Repeated frames (same object and symbol) count once; system libraries and unnamed frames go. */
function runtimeFrames(frames: readonly Frame[]): Frame[] {
  return frames
    .filter((f) => !SYSTEM_LIBRARY.test(f.object) && f.symbol !== '')
    .filter((f, i, all) => i === 0 || all[i - 1]?.object !== f.object || all[i - 1]?.symbol !== f.symbol);
}

/** A JVM's stack: its JNI frames named as Java methods; libjvm's own only when nothing else is there. */
function jvmStack(frames: readonly Frame[]): ShownStack {
  const named = runtimeFrames(frames).map((f) => (JNI_SYMBOL.test(f.symbol) ? { ...f, symbol: javaName(f.symbol) } : f));
  const api = named.filter((f) => !LIBJVM.test(f.object));
  const shown = (api.length ? api : named).slice(0, MAX_SHOWN_FRAMES - 1);
  return { frames: shown, origin: shown.length ? 'runtime' : 'none', folded: frames.length - shown.length };
}

/** The frames worth showing, innermost first. */
export function shownStack(frames: readonly Frame[]): ShownStack {
  if (frames.length === 0) return { frames: [], origin: 'none', folded: 0 };
  if (frames.some((f) => JVM_LIBRARY.test(f.object) || JNI_SYMBOL.test(f.symbol))) return jvmStack(frames);
  const exe = executableOf(frames);
  const interpreted = isInterpreter(exe);
  const pool = poolOf(frames, interpreted);
  const withPool = (s: ShownStack): ShownStack => (pool ? { ...s, pool } : s);
  if (interpreted) {
    const runtime = runtimeFrames(frames).slice(0, MAX_SHOWN_FRAMES - 1);
    return withPool({ frames: runtime, origin: runtime.length ? 'runtime' : 'none', folded: frames.length - runtime.length });
  }
  const shown = frames.filter((f) => f.object === exe && f.symbol !== '' && !RUNTIME_SYMBOL.test(f.symbol)).slice(0, MAX_SHOWN_FRAMES);
  return withPool({ frames: shown, origin: shown.length ? 'program' : 'none', folded: frames.length - shown.length });
}

/** `leak_pipe ← main` (innermost first); a runtime's frames as they are named. */
export function framesText(stack: Pick<ShownStack, 'frames'>): string {
  return stack.frames.map((f) => f.symbol || base(f.object)).join(' ← ');
}
