// repro watch on real services written in Python and C: leaky ones flagged with the right growth
// and kind, clean ones passed, and programs that cannot take reloads reported without hanging.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { formatRun } from '../../src/report/summary.js';
import { repro } from '../support/cli.js';
import { isAlive, waitFor } from '../support/processes.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-watch-'));
const log = join(dir, 'service.log');
const bin = (name: string) => join(dir, name);

beforeAll(() => {
  for (const name of ['leaks-signalfd-per-hup', 'reloads-cleanly', 'churns-fds']) execFileSync('gcc', ['-O2', '-Wall', '-o', bin(name), service(`${name}.c`)]);
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', bin('spins-a-thread'), service('spins-a-thread.c')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function watch(args: string[]) {
  const result = await repro(['watch', '--json', '--reloads', '10', '--settle', '60', ...args], { timeout: 60_000 });
  return { ...result, run: result.stdout ? (JSON.parse(result.stdout) as RunDocument) : undefined };
}

describe('repro watch flags leaky services with the growth per reload and the kind', () => {
  it.each([
    ['Python, a pipe per SIGHUP', () => ['--', 'python3', service('leaks-pipe-per-hup.py')], 2, { pipe: 2 }],
    ['Python, a log file per SIGHUP', () => ['--', 'python3', service('leaks-log-per-hup.py'), log], 1, { file: 1 }],
    ['C, a signalfd per SIGHUP', () => ['--', bin('leaks-signalfd-per-hup')], 1, { signalfd: 1 }],
  ])('%s: exit 1', async (_what, args, growth, kinds) => {
    const { exitCode, run, stderr } = await watch(args());
    expect(exitCode, stderr).toBe(1);
    expect(run?.measured.growthPerReload).toBe(growth);
    expect(run?.measured.growthByKind).toEqual(kinds);
    expect(run?.measured.reloadsDone).toBe(10);
    expect(run?.signalDisposition).toBe('caught');
  });

  it('a leaky service under --ulimit: EMFILE seen, the run stops there', async () => {
    const { exitCode, run } = await watch(['--ulimit', '24', '--reloads', '50', '--', bin('leaks-signalfd-per-hup')]);
    expect(exitCode).toBe(1);
    expect(run?.end.reason).toBe('emfile');
    expect(run?.emfileObserved?.evidence).toMatch(/every slot below the limit 24 is taken|Too many open files/);
    expect(run?.measured.reloadsDone).toBeLessThan(50);
  });

  it('a leak stopped by the free-slot rule (no call failed): the EMFILE row, the check and the prediction name the same next reload', async () => {
    const { exitCode, run } = await watch(['--ulimit', '30', '--reloads', '50', '--', 'python3', service('leaks-pipe-per-hup.py')]);
    expect(exitCode).toBe(1);
    const doc = run as RunDocument;
    expect(doc.emfileObserved?.ahead).toBe(true);
    const after = doc.emfileObserved?.reload as number;
    expect(doc.tree?.grew?.predictedEmfileAtReload).toBe(after + 1);
    const text = formatRun(doc, { color: false, width: 80, chart: false });
    expect(text).toMatch(new RegExp(`\\n {2}EMFILE {11}reload ${after + 1} cannot open its fds \\(predicted from the free slots after reload ${after}; no call failed\\)`));
    expect(text).toContain(`FAIL: EMFILE ahead under ulimit 30: reload ${after + 1} cannot open its fds`);
    expect(text).not.toContain(`EMFILE at reload ${after}`);
  });
});

describe('repro watch --help', () => {
  it('describes --max-growth as the survivors gate it is, not as fd growth', async () => {
    const { exitCode, stdout } = await repro(['watch', '--help']);
    expect(exitCode).toBe(0);
    const help = stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--max-growth <fds> largest number of fds per reload still open at the end that passes (default: 0.1)');
    expect(help).not.toContain('largest fd growth per reload');
  });
});

describe('repro watch passes services that reload cleanly', () => {
  it.each([
    ['Python, log reopened', () => ['--', 'python3', service('reopens-log-cleanly.py'), log]],
    ['C, log reopened', () => ['--', bin('reloads-cleanly'), log]],
  ])('%s: exit 0, no growth', async (_what, args) => {
    const { exitCode, run, stdout } = await watch(args());
    expect(exitCode, stdout.slice(0, 500)).toBe(0);
    expect(run?.measured.growthPerReload).toBe(0);
    expect(run?.measured.reloadsDone).toBe(10);
    // Clean reloads in a row are one line, not ten (counted and uncounted ones apart).
    const clean = formatRun(run as RunDocument, { color: false, width: 80, chart: false })
      .split('\n')
      .filter((l) => l.includes('nothing new still open'));
    expect(clean[0]).toMatch(/^ +reloads 1–\d+: nothing new still open/);
    expect(clean.length).toBeLessThanOrEqual(2);
  });
});

describe('repro watch reports programs that cannot take reloads, without hanging (exit 4)', () => {
  it('a program that dies on SIGHUP (no handler)', async () => {
    const { exitCode, run } = await watch(['--', 'sleep', '600']);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('child-exited');
    expect(run?.end.detail).toBe('killed by SIGHUP during reload 1 (it has no handler for SIGHUP, whose default action ends it)');
    expect(run?.signalDisposition).toBe('default');
  });

  it('a program with no handler for the watched SIGUSR1: the signal row names SIGUSR1 and says there is no handler', async () => {
    const { exitCode, run } = await watch(['--signal', 'USR1', '--', 'sleep', '600']);
    expect(exitCode).toBe(4);
    expect(run?.signalDisposition).toBe('default');
    const text = formatRun(run as RunDocument, { color: false, width: 80, chart: false });
    expect(text).toMatch(/\n {2}signal {11}SIGUSR1: the program has no handler \(default action\)\n/);
    expect(text).not.toContain('SIGHUP');
  });

  it('a program that ignores SIGHUP', async () => {
    const { exitCode, run } = await watch(['--', 'python3', service('ignores-hup.py')]);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('signal-ignored');
    expect(run?.end.detail).toBe('the program ignores SIGHUP (SigIgn), so reloads cannot be tested');
    expect(run?.samples).toHaveLength(1);
  });

  it('a program that exits early', async () => {
    const { exitCode, run } = await watch(['--reloads', '1000', '--', 'python3', service('exits-early.py')]);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('child-exited');
    expect(run?.end.detail).toMatch(/^exited with code 0 during reload \d+$/);
  });

  it('a program whose fd count never settles', async () => {
    const { exitCode, run } = await watch(['--ready-timeout', '500', '--', bin('churns-fds')]);
    expect(exitCode).toBe(4);
    expect(run?.end.reason, `${run?.end.detail}\n${run?.stderr.text}`).toBe('never-settled');
    expect(run?.end.detail).toBe('start-up: fd count still changing after 500 ms');
    // It gave up at the 500 ms start-up wait, not at the default one: the run's own clock, which a loaded machine's slow Node start-up does not move.
    expect(run?.end.wallMs).toBeLessThan(3000);
  });

  it('a program with a thread always running and a steady fd count: the thread is named, with --ready-after as the way out', async () => {
    const { exitCode, run } = await watch(['--ready-timeout', '800', '--', bin('spins-a-thread')]);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('never-settled');
    const pid = run?.tree?.programPid;
    expect(run?.end.detail).toMatch(new RegExp(`^start-up: thread \\d+ of pid ${pid} \\(spins-a-thread\\) kept running for 800 ms \\(never asleep; the fd count held at \\d+\\).*--ready-after MS`));
    expect(run?.end.detail).not.toContain('fd count still changing');
  });
});

describe('repro watch --pid attaches to a running process and leaves it running', () => {
  it('flags the leak and does not stop the process', async () => {
    const running = execa('python3', [service('leaks-pipe-per-hup.py')], { reject: false });
    try {
      // A loaded machine can take longer than any fixed pause to start Python: attach once its SIGHUP handler is in.
      await waitFor('its handler', () => (/^SigCgt:\s+\S*[13579bdf]$/m.test(readFileSync(`/proc/${running.pid}/status`, 'utf8')) ? true : undefined));
      const { exitCode, run } = await watch(['--pid', String(running.pid)]);
      expect(exitCode).toBe(1);
      expect(run?.attached).toBe(true);
      expect(run?.measured.growthPerReload).toBe(2);
      expect(isAlive(running.pid as number)).toBe(true);
    } finally {
      running.kill('SIGKILL');
      await running;
    }
  });
});

describe('repro watch input errors', () => {
  it.each([
    [['watch', '--', '/no/such/program'], 2, 'repro: command not found: /no/such/program (no executable file there); check the path after --'],
    [['watch', '--', 'no-such-program-here'], 2, 'repro: command not found: no-such-program-here (not on PATH); give its full path after --'],
    [['watch', '--pid', '4000000'], 2, 'repro: --pid 4000000: no such process; check the pid (e.g. with pgrep)'],
    [['watch'], 2, 'repro: watch needs a command after --, or --pid PID'],
    [['watch', '--pid', '1', '--', 'sleep', '1'], 2, 'repro: give either --pid PID or a command after --, not both'],
  ])('repro %j: exit %i', async (args, code, message) => {
    const result = await repro(args);
    expect(result.exitCode).toBe(code);
    expect(result.stderr).toBe(message);
  });

  it('an unknown signal name names the flag', async () => {
    const result = await repro(['watch', '--signal', 'NOPE', '--', 'sleep', '1']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--signal takes a signal name such as HUP, TERM or USR1, got 'NOPE'");
  });
});

describe('--log FILE that repro cannot follow: one line naming --log, exit 2, before anything starts', () => {
  const fix = "give the log file the program writes (e.g. nginx's error.log)";
  const marker = join(dir, 'started');
  const program = ['--', 'sh', '-c', `touch ${marker}; sleep 5`];
  const notStarted = () => expect(existsSync(marker)).toBe(false);

  it.each([
    ['a directory', () => dir, (p: string) => `--log "${p}": is a directory; ${fix}`],
    ['a FIFO', () => fifo(), (p: string) => `--log "${p}": is not a regular file (a FIFO, socket or device); ${fix}`],
    ['a file in a directory that does not exist', () => join(dir, 'no-such-dir', 'error.log'), (p: string) => `--log "${p}": there is no directory ${join(dir, 'no-such-dir')}; ${fix}`],
    ['a path through a regular file', () => join(log, 'error.log'), (p: string) => `--log "${p}": a part of the path before the file name is not a directory; ${fix}`],
    ['an empty path', () => '', () => `--log needs a file path; ${fix}`],
  ])('%s', async (_what, path, message) => {
    writeFileSync(log, '');
    const result = await repro(['watch', '--log', path(), ...program]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`repro: ${message(path())}`);
    notStarted();
  });

  it('a file it may not read (repro run as user nobody, the log root-only)', async () => {
    const secret = join(dir, 'root-only.log');
    writeFileSync(secret, 'x\n', { mode: 0o600 });
    chmodSync(dir, 0o755);
    const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, fileURLToPath(new URL('../../bin/repro.js', import.meta.url)), 'watch', '--log', secret, ...program], { reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`repro: --log "${secret}": cannot be read (EACCES); ${fix}`);
    notStarted();
  });
});

function fifo(): string {
  const path = join(dir, 'log.fifo');
  if (!existsSync(path)) execFileSync('mkfifo', [path]);
  return path;
}

describe('permission denied', () => {
  // Run repro as user nobody against a process of root's: /proc/<pid>/fd is not readable then.
  const asNobody = (args: string[]) =>
    execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, fileURLToPath(new URL('../../bin/repro.js', import.meta.url)), ...args], { reject: false });

  it.each([
    [['probe', String(process.pid)]],
    [['watch', '--pid', String(process.pid), '--reloads', '1']],
  ])('repro %j as another user: exit 3, one line, nothing signalled', async (args) => {
    let hups = 0;
    const count = () => (hups += 1);
    process.on('SIGHUP', count);
    try {
      const result = await asNobody(args);
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toBe(`repro: permission denied reading the fds of process ${process.pid} (run as its user or root)`);
      expect(hups).toBe(0);
    } finally {
      process.removeListener('SIGHUP', count);
    }
  });
});
