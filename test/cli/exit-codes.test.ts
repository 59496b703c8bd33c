// The exit-code table (docs/reference.md), command by command: each row runs the real CLI in the situation the
// table names and checks the code, and that stderr holds at most one line (exactly one `repro: …`
// line for an error, commander's own usage errors included) and never a stack trace. 130 / 143 are in signals.test.ts
// (every command, in its longest wait); 70 is a bug in repro and has no honest way to be caused.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareDocument } from '../../src/model/run-document.js';
import { BIN, repro } from '../support/cli.js';
import { marker, pathWithoutSetpriv } from '../support/marked.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-exit-codes-'));
const file = (name: string) => join(dir, name);
const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
/** A directory holding only node and sh, to be the whole PATH: no setpriv, no lsof. */
const bare = pathWithoutSetpriv();
const mark = marker();
/** A process to probe: repro's tests are root, so any pid will do; this one stays for the whole file. */
const target = execa('sleep', ['600'], { reject: false, stdin: 'ignore' });
/** A node program that handles SIGHUP and holds its fds still. */
const cleanService = [process.execPath, '-e', 'process.on("SIGHUP", () => {}); setInterval(() => {}, 1e9)'];

beforeAll(async () => {
  // A file that cannot be executed: its #! interpreter does not exist.
  writeFileSync(file('bad-shebang'), '#!/nonexistent/interpreter\necho never\n');
  chmodSync(file('bad-shebang'), 0o755);
  // Saved documents for `repro report` and `--baseline`: a pass, a fail, an inconclusive watch.
  const runs = await Promise.all([
    repro(['compare', '--reloads', '30', '--out', file('pass.json')]),
    repro(['watch', '--reloads', '4', '--out', file('fail.json'), '--', 'python3', service('leaks-pipe-per-hup.py')]),
    repro(['watch', '--reloads', '2', '--out', file('inconclusive.json'), '--', 'python3', service('ignores-hup.py')]),
  ]);
  expect(runs.map((r) => r.exitCode)).toEqual([0, 1, 4]);
  // A baseline the runs regress against: growth per reload said to have been lower than it is.
  const low = JSON.parse(readFileSync(file('pass.json'), 'utf8')) as CompareDocument;
  low.runs[0]!.measured.growthPerReload = 0;
  low.runs[1]!.measured.growthPerReload = -1;
  writeFileSync(file('low-baseline.json'), JSON.stringify(low));
});

afterAll(async () => {
  target.kill('SIGKILL');
  await target;
  mark.killAll();
  rmSync(dir, { recursive: true, force: true });
  rmSync(bare, { recursive: true, force: true });
});

type Where = 'here' | 'no setpriv' | 'no procfs' | 'no procfs, no lsof';

/** Runs repro as a user would, in one of the situations the table names. */
async function run(args: string[], where: Where) {
  const env: Record<string, string> = { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', ...mark.env };
  if (where === 'here') return repro(args, { env });
  if (where === 'no setpriv') return repro(args, { env: { ...env, PATH: bare } });
  // A private mount namespace in which /proc is unmounted: repro sees no procfs (and lsof cannot work).
  const path = where === 'no procfs' ? (process.env.PATH ?? '') : bare;
  const result = await execa('/usr/bin/unshare', ['-m', '/bin/sh', '-c', '/usr/bin/umount -l /proc || exit 99; exec "$0" "$@"', process.execPath, BIN, ...args], {
    reject: false,
    stdin: 'ignore',
    timeout: 60_000,
    env: { ...env, PATH: path },
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** An argument made when the row runs (a pid), shown as its name in the test's title. */
type Lazy = { name: string; make: () => string };
/** [code, situation, argv, what stderr's one line must say (errors only)] */
type Row = [number, Where, (string | Lazy)[], RegExp?];
const pid: Lazy = { name: 'PID', make: () => String(target.pid) };
/** A process that ends by itself while `probe --watch` samples it. */
const shortLived: Lazy = { name: 'PID-that-ends', make: () => String(execa('sleep', ['2'], { reject: false, stdio: 'ignore' }).pid) };
const rows: Row[] = [
  // 0: the run showed what it should
  [0, 'here', ['broken'], undefined],
  [0, 'here', ['correct', '--reloads', '50'], undefined],
  [0, 'here', ['compare', '--reloads', '30'], undefined],
  [0, 'here', ['watch', '--reloads', '3', '--', ...cleanService], undefined],
  [0, 'here', ['report', file('pass.json')], undefined],
  [0, 'here', ['probe', pid], undefined],
  [0, 'here', ['probe', '--watch', '50', shortLived], undefined],
  // 1: the verdict failed (here: growth per reload worse than --baseline, or a leak)
  [1, 'here', ['broken', '--baseline', file('low-baseline.json')], undefined],
  [1, 'here', ['correct', '--reloads', '50', '--baseline', file('low-baseline.json')], undefined],
  [1, 'here', ['compare', '--reloads', '30', '--baseline', file('low-baseline.json')], undefined],
  [1, 'here', ['watch', '--reloads', '4', '--', 'python3', service('leaks-pipe-per-hup.py')], undefined],
  [1, 'here', ['report', file('fail.json')], undefined],
  // 2: usage
  [2, 'here', ['broken', '--reloads', '0'], /^repro: --reloads takes a whole number from 1 to 10000000, got '0'\.$/],
  [2, 'here', ['correct', '--ulimit', '7'], /^repro: --ulimit takes a whole number from 8 to 1048576, got '7'\.$/],
  [2, 'here', ['compare', '--json', '--csv', '-'], /^repro: --json and --csv - both write to stdout/],
  [2, 'here', ['watch', '--signal', 'NOPE', '--', 'sleep', '1'], /^repro: --signal takes a signal name such as HUP, TERM or USR1, got 'NOPE'\.$/],
  [2, 'here', ['watch', '--', file('no-such-program')], /^repro: command not found: .*no-such-program/],
  [2, 'here', ['watch', '--pid', '4194303'], /^repro: --pid 4194303: no such process/],
  [2, 'here', ['report', file('no-such.json')], /^repro: repro report .*no-such\.json: cannot read/],
  [2, 'here', ['probe', '4194303'], /^repro: no such process: 4194303/],
  [2, 'here', ['nope'], /^repro: unknown command 'nope'; repro --help lists the commands$/],
  // 3: the machine cannot do it — a program that cannot be executed, by each way repro starts it
  [3, 'here', ['watch', '--', file('bad-shebang')], /^repro: cannot execute .*bad-shebang: No such file or directory \(its #! line names \/nonexistent\/interpreter, which does not exist\)/],
  [3, 'here', ['watch', '--ulimit', '64', '--', file('bad-shebang')], /^repro: cannot execute .*bad-shebang: No such file or directory \(its #! line names/],
  // watch starts the program from its keeper (execvp), with or without setpriv: the same words.
  [3, 'no setpriv', ['watch', '--', file('bad-shebang')], /^repro: cannot execute .*bad-shebang: No such file or directory \(its #! line names/],
  [3, 'no setpriv', ['watch', '--ulimit', '64', '--', file('bad-shebang')], /^repro: cannot execute .*bad-shebang: No such file or directory \(its #! line names/],
  // 3: no procfs, in every command that reads fds
  ...(['broken', 'correct', 'compare'] as const).map((c): Row => [3, 'no procfs', [c], /^repro: no procfs at \/proc, and lsof cannot list/]),
  [3, 'no procfs', ['watch', '--reloads', '2', '--', 'sleep', '30'], /^repro: no procfs at \/proc/],
  [3, 'no procfs', ['watch', '--pid', pid], /^repro: no procfs at \/proc/],
  [3, 'no procfs', ['probe', pid], /^repro: no procfs at \/proc/],
  [3, 'no procfs', ['probe', pid, '--watch', '100'], /^repro: no procfs at \/proc/],
  [3, 'no procfs, no lsof', ['probe', pid], /^repro: no procfs and no lsof: install lsof to probe fds here, or mount procfs/],
  // 4: watch only, inconclusive; and `report` exits as the run did
  [4, 'here', ['watch', '--reloads', '2', '--', 'python3', service('ignores-hup.py')], undefined],
  [4, 'here', ['report', file('inconclusive.json')], undefined],
];

const made = (args: Row[2]) => args.map((a) => (typeof a === 'string' ? a : a.make()));
const shown = (args: Row[2]) => args.map((a) => (typeof a === 'string' ? a.replace(`${dir}/`, '') : a.name)).join(' ');

describe('every exit code in the README, command by command', () => {
  it.each(rows.map(([code, where, args, says]) => ({ code, where, args, says, title: shown(args) })))('exit $code ($where): repro $title', async ({ code, where, args, says }) => {
    const result = await run(made(args), where);
    expect(result.exitCode, result.stderr).toBe(code);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain('internal error');
    const lines = result.stderr.split('\n').filter((l) => l !== '');
    if (says) {
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(says);
    } else {
      expect(lines.length).toBeLessThanOrEqual(1);
    }
    expect(mark.alive().filter((p) => p !== target.pid)).toEqual([]);
  });
});
