/**
 * One line of `strace -f -k -y` output, parsed (pure). strace prints, per
 * line, an optional pid prefix (`1234 ` with -o FILE, `[pid 1234] ` on
 * stderr), then one of: a finished call `name(args) = ret`, the first half of
 * an interrupted one `name(args <unfinished ...>`, its second half
 * `<... name resumed>args) = ret`, a signal `--- SIGHUP {si_signo=…} ---`, an
 * exit `+++ exited with 0 +++` / `+++ killed by SIGKILL +++`; `-k` adds stack
 * frames ` > /lib/libc.so.6(pipe2+0x7) [0xf8b37]` after the line they belong to.
 */

/** A stack frame from `-k`: the object (executable or library), the nearest symbol and the offset from it. */
export interface Frame {
  object: string;
  /** Empty when strace could not name it. */
  symbol: string;
}

export type StraceLine =
  | { type: 'call'; tid: number; name: string; args: string; ret: string }
  | { type: 'unfinished'; tid: number; name: string; args: string }
  | { type: 'resumed'; tid: number; name: string; rest: string }
  | { type: 'signal'; tid: number; signal: string; senderPid: number | undefined }
  | { type: 'exit'; tid: number }
  | { type: 'frame'; frame: Frame }
  | { type: 'other' };

const PREFIX = /^(?:\[pid\s+(\d+)\] |(\d+) +)?/;
const UNFINISHED = ' <unfinished ...>';

/** The tid a line without a pid prefix belongs to (strace prints none while it traces one process). */
export const NO_PID = 0;

/** Parses one line (without its newline). */
export function parseStraceLine(line: string): StraceLine {
  if (line.startsWith(' > ')) return frameLine(line);
  const prefix = PREFIX.exec(line) as RegExpExecArray;
  const tid = Number(prefix[1] ?? prefix[2] ?? NO_PID);
  const rest = line.slice(prefix[0].length);
  if (rest.startsWith('--- ')) {
    const m = /^--- (SIG[A-Z0-9+]+) (.*)---$/.exec(rest);
    if (!m) return { type: 'other' };
    const sender = /\bsi_pid=(\d+)/.exec(m[2] as string)?.[1];
    return { type: 'signal', tid, signal: m[1] as string, senderPid: sender === undefined ? undefined : Number(sender) };
  }
  if (rest.startsWith('+++ ')) return /^\+\+\+ (?:exited with|killed by) /.test(rest) ? { type: 'exit', tid } : { type: 'other' };
  if (rest.startsWith('<... ')) {
    const m = /^<\.\.\. ([a-z0-9_]+) resumed>(.*)$/.exec(rest);
    return m ? { type: 'resumed', tid, name: m[1] as string, rest: m[2] as string } : { type: 'other' };
  }
  const open = /^([a-z_][a-z0-9_]*)\(/.exec(rest);
  if (!open) return { type: 'other' };
  const name = open[1] as string;
  const body = rest.slice(open[0].length);
  if (body.endsWith(UNFINISHED)) return { type: 'unfinished', tid, name, args: body.slice(0, -UNFINISHED.length) };
  const split = splitReturn(body);
  if (!split) return { type: 'other' };
  return { type: 'call', tid, name, args: split.args, ret: split.ret };
}

/**
 * `args) = ret` → its two parts. strace pads before ` = ` to a column, and a
 * failed call ends `= -1 EBADF (Bad file descriptor)`; the last `) = ` (or
 * `)   = `) separates them.
 */
export function splitReturn(body: string): { args: string; ret: string } | undefined {
  const m = /\)\s+= (?=[-?\d])/g;
  let last: RegExpExecArray | undefined;
  for (let hit = m.exec(body); hit; hit = m.exec(body)) last = hit;
  if (!last) return undefined;
  return { args: body.slice(0, last.index), ret: body.slice(last.index + last[0].length) };
}

function frameLine(line: string): StraceLine {
  const text = line.slice(3);
  const open = text.indexOf('(');
  const close = text.lastIndexOf(') [');
  if (open < 0 || close < open) return { type: 'frame', frame: { object: text.replace(/ \[0x[0-9a-f]+\]$/, ''), symbol: '' } };
  const inner = text.slice(open + 1, close);
  const plus = inner.lastIndexOf('+0x');
  return { type: 'frame', frame: { object: text.slice(0, open), symbol: plus >= 0 ? inner.slice(0, plus) : inner } };
}

/** The number a return value starts with (`3</etc/hostname>` → 3, `-1 EBADF (…)` → -1); undefined for `?`. */
export function returnNumber(ret: string): number | undefined {
  const m = /^(-?\d+)/.exec(ret);
  return m ? Number(m[1]) : undefined;
}

/** What `-y` printed after an fd: `3</etc/hostname>` → `/etc/hostname`; undefined without a decoration. */
export function decoration(text: string): string | undefined {
  const m = /^-?\d+<(.*)>/.exec(text);
  return m ? m[1] : undefined;
}

/**
 * The fds in an array argument (`[6<pipe:[3]>, 7<pipe:[3]>]`) or a
 * `cmsg_data=[…]`: each number with its `-y` decoration.
 */
export function fdList(text: string): { fd: number; target?: string }[] {
  const out: { fd: number; target?: string }[] = [];
  const re = /(\d+)(?:<((?:[^<>]|<[^<>]*>)*)>)?(?=[,\]])/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ fd: Number(m[1]), ...(m[2] !== undefined ? { target: m[2] } : {}) });
  return out;
}

/** The argument list split at top-level commas (strings, brackets and braces respected). */
export function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (args.slice(start).trim()) out.push(args.slice(start).trim());
  return out;
}

/** Arguments for display: `-y` decorations after fds and AT_FDCWD dropped (`dup(3</etc/x>)` → `dup(3)`), at most `max` characters. */
export function displayArgs(args: string, max = 160): string {
  const plain = args.replace(/(\d|AT_FDCWD)<(?:[^<>]|<[^<>]*>)*>/g, '$1');
  return plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
}
