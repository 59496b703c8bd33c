/**
 * Which frames of a `-k` stack to show (pure). strace lists the innermost
 * frame first (the libc wrapper of the call), then its callers out to
 * `_start`. Shown: the frames of the program itself, innermost first; folded:
 * libc, the dynamic loader, the vdso, other shared libraries, and a compiled
 * runtime's own frames (Rust std/core/alloc, Go runtime/syscall). For an
 * interpreter (python, node, ruby…) the program's own code has no native
 * frames: the runtime's frames nearest the call are shown instead (`node::fs::Open`,
 * `uv_pipe`), marked `runtime`; a run of frames with the same object and
 * symbol (a stripped library's functions all carry its nearest exported
 * symbol, an interpreter's trampolines repeat) counts once.
 */
import type { Frame } from './strace-line.js';

export type FrameOrigin = 'program' | 'runtime' | 'none';

export interface ShownStack {
  frames: Frame[];
  origin: FrameOrigin;
  /** Frames not shown. */
  folded: number;
}

/** At most this many frames are kept per call site. */
export const MAX_SHOWN_FRAMES = 4;

const INTERPRETER = /^(?:python[\d.]*m?|pypy[\d.]*|node|nodejs|bun|deno|ruby[\d.]*|perl[\d.]*|php[\d.]*|lua[\d.]*|luajit|java|bash|dash|sh|zsh|tclsh[\d.]*|erl|beam\.smp)$/;
/** Libraries that are the platform, not the program: never shown. */
const SYSTEM_LIBRARY = /(?:^|\/)(?:ld-linux[^/]*|ld-musl[^/]*|libc[.-][^/]*|libpthread[.-][^/]*|libdl[.-][^/]*|librt[.-][^/]*|libm[.-][^/]*|libgcc_s[.-][^/]*|libstdc\+\+[^/]*|\[vdso\])$/;
/** A compiled runtime's own frames inside the program's executable. */
const RUNTIME_SYMBOL = /^(?:_start$|__libc_start|_init$|std::|core::|alloc::|<std::|<core::|<alloc::|__rust|rust_|libc::|runtime\.|syscall\.|internal\/|golang\.org\/x\/sys|os\.(?:Open|openFile|Pipe|NewFile|newFile)|uv_|uv__)/;

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

/** The frames worth showing, innermost first. */
export function shownStack(frames: readonly Frame[]): ShownStack {
  if (frames.length === 0) return { frames: [], origin: 'none', folded: 0 };
  const exe = executableOf(frames);
  if (isInterpreter(exe)) {
    const runtime = frames
      .filter((f) => !SYSTEM_LIBRARY.test(f.object) && f.symbol !== '')
      .filter((f, i, all) => i === 0 || all[i - 1]?.object !== f.object || all[i - 1]?.symbol !== f.symbol)
      .slice(0, MAX_SHOWN_FRAMES - 1);
    return { frames: runtime, origin: runtime.length ? 'runtime' : 'none', folded: frames.length - runtime.length };
  }
  const shown = frames.filter((f) => f.object === exe && f.symbol !== '' && !RUNTIME_SYMBOL.test(f.symbol)).slice(0, MAX_SHOWN_FRAMES);
  return { frames: shown, origin: shown.length ? 'program' : 'none', folded: frames.length - shown.length };
}

/** `leak_pipe ← main` (innermost first); a runtime's frames as they are named. */
export function framesText(stack: Pick<ShownStack, 'frames'>): string {
  return stack.frames.map((f) => f.symbol || base(f.object)).join(' ← ');
}
