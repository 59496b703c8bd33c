/**
 * A document as the views may show it: every string it holds (from a saved
 * file anyone may have written, or from the programs a live run watched) with
 * control characters as visible escapes and its length bounded. One pass here,
 * before any view renders, covers every field of every kind, including the
 * ones a view would show as they are; repro's own colour codes are added by
 * the views afterwards, so they still work. Pure.
 */
import type { ReproDocument } from '../model/run-document.js';
import { visible, visibleLine } from './text.js';

/**
 * Longest string a view shows. Kept program output is at most 64 KiB (its
 * first 16 and last 48), so this cuts only what repro never wrote: a view of
 * a hand-made document stays the size of one of repro's.
 */
export const SHOWN_CHARS = 80 * 1024;
const HEAD_CHARS = 16 * 1024;
const TAIL_CHARS = 48 * 1024;
/** Deeper than any document repro writes (9 levels) and than a loaded one may be (load-document's limit). */
const SHOWN_DEPTH = 64;

function capped(text: string, multiline: boolean): string {
  if (text.length <= SHOWN_CHARS) return text;
  const cut = text.length - HEAD_CHARS - TAIL_CHARS;
  const note = `… ${cut} characters not shown …`;
  return `${text.slice(0, HEAD_CHARS)}${multiline ? `\n${note}\n` : ` ${note} `}${text.slice(-TAIL_CHARS)}`;
}

function shownString(text: string, multiline: boolean): string {
  const bounded = capped(text, multiline);
  // Program output keeps its lines and tabs; any other field is one line, so a newline in it cannot forge a line of the summary.
  return multiline ? visible(bounded) : visibleLine(bounded);
}

/** `inOutput`: for a string, it is program output (multi-line); for an object, it is a kept output stream (`stdout`, `stderr`). */
function shownValue(value: unknown, depth: number, inOutput: boolean): unknown {
  if (typeof value === 'string') return shownString(value, inOutput);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= SHOWN_DEPTH) return '…';
  if (Array.isArray(value)) return value.map((v) => shownValue(v, depth + 1, false));
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(o)) {
    const shownKey = shownString(key, false);
    if (o.kind === 'run' && key === 'command' && Array.isArray(v)) {
      // The command line is shown quoted as a shell needs it ($'…' for control characters), by shellCommand: escaped here, it would read as backslashes.
      out[shownKey] = v.map((arg) => (typeof arg === 'string' ? capped(arg, false) : arg));
    } else {
      out[shownKey] = shownValue(v, depth + 1, inOutput ? key === 'text' : key === 'stdout' || key === 'stderr');
    }
  }
  return out;
}

/** The document with every string safe to show in a terminal, Markdown, HTML or XML, as the views (not --json) get it. */
export function shownDocument<D extends ReproDocument>(doc: D): D {
  return shownValue(doc, 0, false) as D;
}
