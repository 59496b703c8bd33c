// repro on a real terminal: `script` gives it a pty for stdout and stderr. The progress line is erased
// before the summary, and TERM=dumb gets neither colour nor cursor and erase sequences.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';

const ESC = '\x1b';
/** An SGR foreground colour (ESC[3Nm). */
const colour = new RegExp(`${ESC}\\[3\\dm`);
/** A cursor movement or screen erase (ESC[nA, ESC[nB, ESC[nJ). */
const cursorMove = new RegExp(`${ESC}\\[\\d*[ABJ]`);
/** A control sequence at the start of a string. */
const sequenceAtStart = new RegExp(`^${ESC}\\[([0-9;]*)([A-Za-z])`);

/** Runs repro under `script`, so both its stdout and stderr are a terminal; returns every byte the terminal got. */
async function onTerminal(args: string[], env: Record<string, string>): Promise<{ exitCode: number | undefined; raw: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  const result = await execa('script', ['-qec', command, '/dev/null'], {
    reject: false,
    stdin: 'ignore',
    timeout: 60_000,
    // Only what the row sets: no NO_COLOR or FORCE_COLOR from the suite's own environment.
    env: { PATH: process.env.PATH ?? '', REPRO_SUITE_ID: process.env.REPRO_SUITE_ID ?? '', GITHUB_STEP_SUMMARY: '', ...env },
    extendEnv: false,
  });
  return { exitCode: result.exitCode, raw: String(result.stdout) };
}

/**
 * What a terminal shows for these bytes, line by line: `\r` returns to column 0,
 * `ESC[2K` erases the line, SGR colour sequences take no room, and any other
 * character overwrites the cell under the cursor.
 */
function screen(raw: string): string[] {
  return raw.split('\n').map((line) => {
    const cells: string[] = [];
    let col = 0;
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\r') {
        col = 0;
        continue;
      }
      const sequence = sequenceAtStart.exec(line.slice(i));
      if (sequence) {
        if (sequence[2] === 'K' && sequence[1] === '2') cells.length = 0;
        i += sequence[0].length - 1;
        continue;
      }
      cells[col++] = line[i] as string;
    }
    return Array.from(cells, (c) => c ?? ' ').join('');
  });
}

const progressText = /reload \d+\/\d+ · \d+ fds/;
describe('the progress line on a terminal', () => {
  it.each([['broken'], ['compare']])('%s: is drawn while it runs, and erased before the summary, which starts at column 0', async (command) => {
    const { exitCode, raw } = await onTerminal([command, '--no-chart', '--reloads', '200'], { TERM: 'xterm', NO_COLOR: '1' });
    expect(exitCode).toBe(0);
    // It was drawn (otherwise there is nothing to erase and the test proves nothing).
    expect(raw).toMatch(progressText);
    const lines = screen(raw);
    const header = lines.findIndex((l) => l.includes(`repro ${command} ·`));
    expect(header).toBeGreaterThanOrEqual(0);
    expect(lines[header]).toMatch(new RegExp(`^repro ${command} ·`));
    // Nothing of it is left anywhere on the screen, and the verdict line is still there.
    expect(lines.filter((l) => progressText.test(l))).toEqual([]);
    expect(lines.some((l) => l.startsWith('PASS:'))).toBe(true);
  });
});

describe('TERM=dumb', () => {
  it('gets no colour and no cursor or erase sequence: no ESC byte at all, and no progress line', async () => {
    const { exitCode, raw } = await onTerminal(['broken', '--reloads', '200'], { TERM: 'dumb' });
    expect(exitCode).toBe(0);
    expect(raw).toContain('repro broken ·');
    expect(raw).not.toContain('\x1b');
    expect(raw).not.toMatch(progressText);
  });

  it('FORCE_COLOR still colours, but draws no progress line and erases nothing', async () => {
    const { exitCode, raw } = await onTerminal(['broken', '--reloads', '200'], { TERM: 'dumb', FORCE_COLOR: '1' });
    expect(exitCode).toBe(0);
    expect(raw).toMatch(colour);
    expect(raw).not.toContain('\x1b[2K');
    expect(raw).not.toMatch(cursorMove);
    expect(raw).not.toMatch(progressText);
  });

  it('says, once a long run is a few seconds in, how long it has taken and about how long the rest will take', async () => {
    // A reload that sleeps 250 ms in its handler: 12 take 3 s at least, however fast the machine (runtime-teardown under Node,
    // ~150 ms a round with the CA file Node parses at start, took 2.00 s for 40 rounds without it, under the 2 s the line waits for).
    const program = 'import signal, time\nsignal.signal(signal.SIGHUP, lambda *_: time.sleep(0.25))\nwhile True:\n    signal.pause()';
    const { exitCode, raw } = await onTerminal(['watch', '--reloads', '12', '--no-chart', '--', 'python3', '-c', program], { TERM: 'xterm', NO_COLOR: '1' });
    expect(exitCode, raw).toBe(0);
    expect(raw).toMatch(/watch reload \d+\/12 · \d+ fds · \d+ s, about \d+ s left at this pace/);
  });

  it('probe --watch draws no live chart (no cursor movement), one plain line per sample', async () => {
    const short = execa('sleep', ['1.5'], { reject: false, stdio: 'ignore' });
    const { exitCode, raw } = await onTerminal(['probe', String(short.pid), '--watch', '100'], { TERM: 'dumb' });
    await short;
    expect(exitCode).toBe(0);
    expect(raw).not.toContain('\x1b');
    expect(raw).toMatch(/fds \d+ {2}\(\+0\)/);
    expect(raw).toContain('(the process ended)');
  });

  it('probe --watch labels the x axis of its live chart as samples in time, not reloads', async () => {
    const short = execa('sleep', ['1.5'], { reject: false, stdio: 'ignore' });
    const { exitCode, raw } = await onTerminal(['probe', String(short.pid), '--watch', '100'], { TERM: 'xterm', NO_COLOR: '1' });
    await short;
    expect(exitCode).toBe(0);
    // The chart was drawn live (redrawn in place), and says what its x axis counts.
    expect(raw).toMatch(cursorMove);
    expect(raw).toContain('sample, one every 100 ms →');
    expect(raw).not.toContain('reload →');
  });

  it('a colour terminal (TERM=xterm) still gets colour: the rule is about dumb terminals only', async () => {
    const { raw } = await onTerminal(['broken', '--reloads', '200'], { TERM: 'xterm' });
    expect(raw).toMatch(colour);
  });
});
