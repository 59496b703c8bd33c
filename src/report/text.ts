/**
 * Text that came from a program (its output, its command line, paths) made
 * safe to show: control characters and escape sequences as visible escapes,
 * arguments quoted like a shell, long text cut with a visible ellipsis. Pure.
 */

// C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the bidi
// controls that reorder what a terminal or browser shows.
// eslint-disable-next-line no-control-regex
const UNSEEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSEEN_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Program output as visible text: `ESC[31m` becomes `\x1b[31m`; line breaks and tabs stay. */
export function visible(text: string): string {
  return text.replace(UNSEEN, escapeOne);
}

/** One line of visible text: line breaks and tabs are escaped too. */
export function visibleLine(text: string): string {
  return text.replace(UNSEEN_OR_BREAK, escapeOne);
}

const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument as a POSIX shell would need it: bare, 'single-quoted', or $'…' when it holds control characters. */
export function shellQuote(arg: string): string {
  if (PLAIN_WORD.test(arg)) return arg;
  UNSEEN_OR_BREAK.lastIndex = 0;
  if (UNSEEN_OR_BREAK.test(arg)) {
    UNSEEN_OR_BREAK.lastIndex = 0;
    return `$'${arg.replace(/[\\']/g, (c) => `\\${c}`).replace(UNSEEN_OR_BREAK, escapeOne)}'`;
  }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line as it could be typed again. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** At most `width` characters; a cut ends in `…` so it shows. */
export function ellipsize(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Columns a line takes on a terminal: one per code point (the summaries draw no double-width glyphs). */
export function columnsOf(text: string): number {
  return [...text].length;
}

/** A word wider than a whole line is cut into line-wide pieces, so nothing runs past the edge. */
function pieces(word: string, room: number): string[] {
  const chars = [...word];
  if (chars.length <= room) return [word];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += room) out.push(chars.slice(i, i + room).join(''));
  return out;
}

/**
 * `parts` joined by `joiner` into lines of at most `width` columns: the first
 * line after `lead`, every further one after `hang` (the indent a reader's eye
 * follows down a column). A part is never split while it fits on a line.
 */
export function wrapParts(parts: readonly string[], joiner: string, width: number, lead: string, hang: string): string[] {
  if (!Number.isFinite(width)) return [lead + parts.join(joiner)];
  const lines: string[] = [];
  let line = lead;
  let empty = true;
  // A line broken after a part ends in the joiner's mark (` ·`), which must fit too.
  const mark = columnsOf(joiner.trimEnd());
  for (const [i, part] of parts.entries()) {
    const glue = empty ? '' : joiner;
    const after = i < parts.length - 1 ? mark : 0;
    if (!empty && columnsOf(line) + columnsOf(glue) + columnsOf(part) + after > width) {
      lines.push(`${line}${joiner}`.trimEnd());
      line = hang;
      empty = true;
    }
    const room = Math.max(8, width - columnsOf(line) - (empty ? 0 : columnsOf(joiner)));
    const cut = pieces(part, room);
    line += (empty ? '' : joiner) + (cut[0] as string);
    empty = false;
    for (const piece of cut.slice(1)) {
      lines.push(line);
      line = hang + piece;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * One line fitted to `width` columns: broken at spaces, the continuation
 * lines indented under the first one's text by two more columns (or at
 * `hangColumn`, a table's value column). A line that fits is returned as is.
 */
export function fitLine(line: string, width: number, hangColumn?: number): string[] {
  if (!Number.isFinite(width) || columnsOf(line) <= width) return [line];
  const lead = /^ */.exec(line)?.[0] ?? '';
  const hang = ' '.repeat(Math.min(hangColumn ?? lead.length + 2, Math.floor(width / 2)));
  return wrapParts(line.slice(lead.length).split(' ').filter((w) => w !== ''), ' ', width, lead, hang);
}
