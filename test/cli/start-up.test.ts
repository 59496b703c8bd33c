/**
 * The start-up fast path (src/cli/fast.ts): `repro --version`, `repro list` and
 * `repro probe PID` in their plainest form skip commander and the option table.
 * These tests hold it to two things: it prints exactly what the full CLI prints
 * for the same argv (main() called directly, which never takes the fast path),
 * and a one-shot probe loads neither node:child_process nor koffi.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.js';
import { BIN, repro } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/bundle/main.js');

/** The full CLI on the same argv, in a process of its own: main() parses everything with commander. */
async function fullCli(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(JSON.parse(process.argv[1]));`;
  const result = await execa(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], { reject: false, env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', ...env }, stdin: 'ignore' });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

let holder: ChildProcess;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'repro-start-up-'));
  // A process whose fds do not change while both paths list them: python holding a pipe and sleeping.
  holder = spawn('python3', ['-c', 'import os, sys, time; r, w = os.pipe(); print("ready", flush=True); time.sleep(120)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve());
    holder.once('error', reject);
  });
});

afterAll(() => {
  holder.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** The probe's snapshot without the moment it was taken, which differs between two runs by design. */
function withoutTime(stdout: string): string {
  return stdout.replace(/"takenAt": "[^"]+"/, '"takenAt": "…"');
}

describe('the start-up fast path prints what the full CLI prints', () => {
  it('--version and -V: the version package.json declares', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const fast = await repro([flag]);
      expect(fast).toEqual({ exitCode: 0, stdout: version, stderr: '' });
      expect(await fullCli([flag])).toEqual(fast);
    }
  });

  it('list and list --json', async () => {
    for (const args of [['list'], ['list', '--json']]) {
      const fast = await repro(args);
      expect(fast.exitCode).toBe(0);
      expect(fast.stdout).toContain('sighup-listener');
      expect(await fullCli(args)).toEqual(fast);
    }
  });

  it('list reads the catalog the build wrote, not the scenario modules; without the catalog, the full CLI lists the same', async () => {
    // The fast path's list file holds no scenario module (sigchld-reap's trial code, for one, names itself).
    expect(readFileSync(join(ROOT, 'dist/bundle/fast-list.cjs'), 'utf8')).not.toMatch(/sigchld/i);
    const catalog = JSON.parse(readFileSync(join(ROOT, 'dist/bundle/catalog.json'), 'utf8')) as { name: string }[];
    expect(catalog.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    // A copy of the bundle without its catalog (a half-built install): the fast path hands list to the full CLI.
    const copy = join(tmp, 'no-catalog');
    mkdirSync(join(copy, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist/bundle'), join(copy, 'dist/bundle'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    rmSync(join(copy, 'dist/bundle/catalog.json'));
    const run = (bin: string) => execa(process.execPath, [bin, 'list'], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore' });
    const [fast, without] = await Promise.all([run(BIN), run(join(copy, 'bin/repro.js'))]);
    expect(without.exitCode).toBe(0);
    expect(without.stdout).toBe(fast.stdout);
  });

  it('probe PID and probe PID --json, and a pid that is gone', async () => {
    const pid = String(holder.pid);
    const table = await repro(['probe', pid]);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^pid ${pid} · \\d+ open fds · procfs`));
    expect(await fullCli(['probe', pid])).toEqual(table);
    // In colour too (FORCE_COLOR wins over NO_COLOR): the fast path paints the title without chalk.
    const painted = await repro(['probe', pid], { env: { FORCE_COLOR: '1' } });
    expect(painted.stdout).toContain('\u001b[1m');
    expect(await fullCli(['probe', pid], { FORCE_COLOR: '1' })).toEqual(painted);
    const json = await repro(['probe', pid, '--json']);
    const full = await fullCli(['probe', pid, '--json']);
    expect(withoutTime(full.stdout)).toBe(withoutTime(json.stdout));
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'probe', pid: holder.pid, backend: 'procfs' });
    // A pid that no process has: the same one line and exit code on both paths.
    const gone = await repro(['probe', '4194303']);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toMatch(/^repro: .*4194303/);
    expect(await fullCli(['probe', '4194303'])).toEqual(gone);
  });

  it('leaves every other form to the full CLI: help, a bad pid, an extra flag', async () => {
    const bad = await repro(['probe', '0']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('<pid> takes a whole number from 1 to 4194304');
    const extra = await repro(['list', '--json', '--no-such-flag']);
    expect(extra.exitCode).toBe(2);
    expect(extra.stderr).toContain("'--no-such-flag'");
  });
});

describe('what a one-shot probe loads', () => {
  it('neither node:child_process (the lsof back end), koffi (readlinkat for repeated sampling) nor the ESM loader', async () => {
    const out = join(tmp, 'loaded.json');
    const preload = join(tmp, 'record-loaded.cjs');
    // At exit: the built-in modules Node loaded, and every CommonJS module (koffi is one) in the require cache.
    // The list is copied before require('module') (the recorder's own) adds to it.
    writeFileSync(preload, `process.on('exit', () => { const builtins = [...process.moduleLoadList]; require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ builtins, required: Object.keys(require('module')._cache) })); });\n`);
    const result = await execa(process.execPath, ['--require', preload, BIN, 'probe', String(holder.pid)], { reject: false, stdin: 'ignore' });
    expect(result.exitCode).toBe(0);
    const loaded = JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[]; required: string[] };
    expect(loaded.builtins).not.toContain('NativeModule child_process');
    // Nor Node's ESM loader: the launcher and the fast path are CommonJS (about 15 ms of CPU saved, measured).
    expect(loaded.builtins).not.toContain('NativeModule internal/modules/esm/loader');
    expect(loaded.required.filter((p) => p.includes('koffi'))).toEqual([]);
    // The recorder itself ran (it is the one CommonJS module every run loads).
    expect(loaded.required).toContain(preload);
    // --version and list load no ESM loader either; --help (the full CLI, ESM) does, which shows the check can see it.
    for (const [args, esm] of [[['--version'], false], [['list'], false], [['--help'], true]] as const) {
      const run = await execa(process.execPath, ['--require', preload, BIN, ...args], { reject: false, stdin: 'ignore' });
      expect(run.exitCode, args.join(' ')).toBe(0);
      const builtins = (JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[] }).builtins;
      expect(builtins.includes('NativeModule internal/modules/esm/loader'), args.join(' ')).toBe(esm);
    }
    // Output to /dev/null (a character device, never a terminal) does not load node:tty to ask isatty().
    const toNull = await execa(process.execPath, ['--require', preload, BIN, 'probe', String(holder.pid)], { reject: false, stdin: 'ignore', stdout: 'ignore' });
    expect(toNull.exitCode).toBe(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[] }).builtins).not.toContain('NativeModule tty');
  });
});

describe('the fast path writes stdout itself (write(2) on fd 1), with the same contract as the full CLI', () => {
  it('a full disk (/dev/full) is one line and exit 3; a reader that is gone ends it quietly, exit 0', async () => {
    for (const args of [['--version'], ['list'], ['probe', String(holder.pid)]]) {
      const full = await execa('sh', ['-c', `"${process.execPath}" "${BIN}" ${args.join(' ')} > /dev/full`], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore' });
      expect(full.exitCode, args.join(' ')).toBe(3);
      expect(full.stderr, args.join(' ')).toBe('repro: cannot write to stdout (ENOSPC); the run itself is unaffected');
      const gone = await execa('bash', ['-c', `"${process.execPath}" "${BIN}" ${args.join(' ')} | true; exit \${PIPESTATUS[0]}`], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore' });
      expect(gone.exitCode, args.join(' ')).toBe(0);
      expect(gone.stderr, args.join(' ')).toBe('');
    }
  });

  it('paints on a terminal (a pty from script(1)), not on a pipe, without process.stdout to ask', async () => {
    const env = { ...process.env, TERM: 'xterm', NO_COLOR: undefined, FORCE_COLOR: undefined };
    const onTerminal = await execa('script', ['-qc', `"${process.execPath}" "${BIN}" probe ${holder.pid}`, '/dev/null'], { reject: false, env, extendEnv: false, stdin: 'ignore' });
    expect(onTerminal.exitCode).toBe(0);
    expect(onTerminal.stdout.startsWith(`\u001b[1mpid ${holder.pid} `)).toBe(true);
    const onPipe = await execa(process.execPath, [BIN, 'probe', String(holder.pid)], { reject: false, env, extendEnv: false, stdin: 'ignore' });
    expect(onPipe.stdout.startsWith(`pid ${holder.pid} `)).toBe(true);
  });

  it('a non-blocking pipe that fills up (EAGAIN) is waited on, not a failure: every byte arrives', async () => {
    // A process with 2,000 fds: its --json listing (about 175 KiB) is more than twice a pipe's 64 KiB.
    const many = spawn('python3', [join(ROOT, 'scripts/bench/hold-fds.py'), '2000'], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => many.stdout?.once('data', () => resolve()));
      const script = [
        'import fcntl, os, subprocess, sys, time',
        'r, w = os.pipe()',
        'fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)',
        'p = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)',
        'os.close(w)',
        'time.sleep(0.3)',
        'data = b""',
        'while chunk := os.read(r, 65536): data += chunk',
        'err = p.stderr.read().decode()',
        'print(p.wait(), len(data), data.decode().count(\'"fd":\'), repr(err))',
      ].join('\n');
      const result = await execa('python3', ['-c', script, process.execPath, BIN, 'probe', String(many.pid), '--json'], { reject: false, stdin: 'ignore' });
      const [code, bytes, fds, stderr] = result.stdout.trim().split(' ');
      expect(code).toBe('0');
      expect(Number(bytes)).toBeGreaterThan(2 * 65536);
      expect(Number(fds)).toBeGreaterThanOrEqual(2000);
      expect(stderr).toBe("''");
    } finally {
      many.kill('SIGKILL');
    }
  });
});
