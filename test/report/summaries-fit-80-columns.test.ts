// Every summary fits an 80-column terminal (issue 22): with COLUMNS=80, the compare, a watch of a
// leaky program, an inconclusive watch and a drain print at most 2 lines wider than 80 columns
// (they print none today), each fact said once; without COLUMNS, in a pipe, lines stay whole for
// grep. Real runs through the CLI; the row wrapping is also checked on its own.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowLines } from '../../src/report/summary.js';
import { wrapParts } from '../../src/report/text.js';
import { type CliResult, repro } from '../support/cli.js';
import { freePort } from '../support/net.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const shutdowns = fileURLToPath(new URL('../fixtures/drain/shutdowns.py', import.meta.url));
const at80 = { env: { COLUMNS: '80' }, timeout: 90_000 };
const wide = (out: string) => out.split('\n').filter((l) => [...l].length > 80);

let compare: CliResult;
let piped: CliResult;
let leaky: CliResult;
let ignored: CliResult;
let drain: CliResult;

beforeAll(async () => {
  const port = await freePort();
  [compare, piped, leaky, ignored, drain] = await Promise.all([
    repro(['compare', '--reloads', '30'], at80),
    repro(['compare', '--reloads', '30', '--no-chart'], { env: { COLUMNS: '' } }),
    repro(['watch', '--reloads', '5', '--settle', '60', '--', 'python3', service('leaks-pipe-per-hup.py')], at80),
    repro(['watch', '--reloads', '3', '--', 'python3', service('ignores-hup.py')], at80),
    // A server whose "DB pool" closes first: 500s after SIGTERM, a FAIL with its fix in the rows.
    repro(['drain', '--url', `http://127.0.0.1:${port}/`, '--lag', '200', '--', 'python3', shutdowns, 'db-closed', String(port)], at80),
  ]);
}, 120_000);

describe('at COLUMNS=80', () => {
  it('compare, watch and drain print no more than 2 lines over 80 columns', () => {
    expect(compare.exitCode, compare.stdout).toBe(0);
    expect(leaky.exitCode, leaky.stdout).toBe(1);
    expect(drain.exitCode, drain.stdout).toBe(1);
    for (const [name, run] of Object.entries({ compare, leaky, ignored, drain })) {
      expect(wide(run.stdout).length, `${name}:\n${wide(run.stdout).join('\n')}`).toBeLessThanOrEqual(2);
    }
  });

  it('wraps a long value under its own column, and a check under its text', () => {
    // The completion row is about 300 characters: wrapped, each continuation starts at the value column.
    const lines = leaky.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  completion       '));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {19}\S/);
    expect(leaky.stdout).toMatch(/\n {2}FAIL: 2 fds\/reload still open at the end, [^\n]*\n {4}\S/);
  });

  it('says why an inconclusive run stopped once, in its headline', () => {
    expect(ignored.exitCode, ignored.stdout).toBe(4);
    const why = 'the program ignores SIGHUP (SigIgn), so reloads cannot be tested';
    const flat = ignored.stdout.replace(/\n +/g, ' ');
    expect(flat).toContain(`INCONCLUSIVE: ${why}`);
    expect(flat.split(why)).toHaveLength(2);
    expect(flat).toContain('could not tell: run ended early (the reason above)');
    expect(flat).toContain('stopped early (why: INCONCLUSIVE below)');
    // Two rows never measured for the same reason are one row.
    expect(ignored.stdout).toMatch(/\n {2}not measured {5}— growth, settle \(no reload sampled after the baseline\)\n/);
  });

  it('splits a compare too wide for the terminal into tables of whole columns', async () => {
    const result = await repro(['compare', '--scenario', 'graceful-drain', '--runtime', 'python'], at80);
    expect(result.exitCode, result.stdout).toBe(0);
    expect(wide(result.stdout)).toEqual([]);
    const headers = result.stdout.split('\n').filter((l) => /^ {20,}[a-z-]+( +[a-z-]+)*$/.test(l) && l.includes('correct') !== l.includes('exit-at-once'));
    expect(headers.join('\n')).toMatch(/exit-at-once +keeps-accepting\n +drains-forever +correct/);
  }, 120_000);
});

describe('in a pipe without COLUMNS', () => {
  it('keeps each check on one line, whole, for grep', () => {
    expect(piped.exitCode, piped.stdout).toBe(0);
    expect(piped.stdout).toMatch(/\n {2}ok: broken: the broken pattern leaks until EMFILE and then stops reloading \([^\n]*signal handling then dead\)\n/);
  });
});

describe('rows', () => {
  it('wrap a value under the value column and say a reason never measured once', () => {
    const rows: [string, string][] = [
      ['baseline fds', '— (never sampled: the run ended first)'],
      ['final fds', '— (never sampled: the run ended first)'],
      ['signal', 'SIGHUP: the program blocks it (it may take it through sigwait or a signalfd)'],
    ];
    expect(rowLines(rows, 60)).toEqual([
      '  not measured     — baseline fds, final fds (never sampled:',
      '                   the run ended first)',
      '  signal           SIGHUP: the program blocks it (it may',
      '                   take it through sigwait or a signalfd)',
    ]);
    expect(rowLines(rows, Infinity)).toHaveLength(2);
  });

  it('cut a word wider than the line rather than run past the edge', () => {
    const lines = wrapParts(['x'.repeat(50)], ' ', 30, '  ', '    ');
    expect(lines.every((l) => [...l].length <= 30)).toBe(true);
    expect(lines.join('').replace(/ /g, '')).toBe('x'.repeat(50));
  });
});

describe('a title', () => {
  it('breaks between its parts, each line with room for the · it ends in', () => {
    const parts = ['repro drain', 'python3 -m http.server 8000 --bind 127.0.0.1', 'SIGTERM', 'lag 0 ms', 'grace 5000 ms'];
    expect(wrapParts(parts, ' · ', 80, '', '  ')).toEqual(['repro drain · python3 -m http.server 8000 --bind 127.0.0.1 · SIGTERM ·', '  lag 0 ms · grace 5000 ms']);
  });
});
