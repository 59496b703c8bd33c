/**
 * repro outside its checkout, as a user gets it: the tarball `npm run tarball`
 * makes (scripts/pack.mjs, run here on the dist/ pretest built, so nothing is
 * rebuilt under the other test files), installed with the one command the
 * README gives into a new project in a temp directory, and globally into a temp
 * prefix; then real runs from there. Dependencies come from the npm cache
 * `npm ci` filled (--prefer-offline): no registry is needed when it is warm.
 * And in the checkout, `npx repro` runs node_modules/.bin/repro in place.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'repro-install-'));

/** This suite's environment without the npm_* variables `npm test` sets (its prefix and config would leak into the npm run here). */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const [key, value] of Object.entries(process.env)) if (!key.toLowerCase().startsWith('npm_') && value !== undefined) env[key] ??= value;
  return env;
}

async function run(file: string, args: string[], cwd: string) {
  const result = await execa(file, args, { cwd, env: npmEnv(), extendEnv: false, reject: false, stdin: 'ignore', timeout: 90_000 });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

let tarball = '';

beforeAll(() => {
  tarball = execFileSync(process.execPath, [join(ROOT, 'scripts/pack.mjs'), '--pack-destination', tmp], { encoding: 'utf8', env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}, 60_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('holds the built CLI, its launcher and bin, the schemas and the children built or run from source; no TypeScript', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const needed of [
      'bin/repro.js',
      'dist/bundle/main.js',
      'bin/package.json',
      'dist/bundle/fast.cjs',
      'dist/bundle/fast-list.cjs',
      'dist/bundle/fast-probe.cjs',
      'dist/bundle/catalog.json',
      'dist/scenarios/sighup-listener/node/broken.js',
      'schema/run-document.schema.json',
      'src/scenarios/runtime-teardown/c/child.c',
      'src/scenarios/log-reopen/python/child.py',
      'src/scenarios/sighup-listener/rust/Cargo.toml',
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { bin?: Record<string, string>; scripts?: unknown };
    expect(manifest.bin).toEqual({ repro: 'bin/repro.js' });
    // Nothing to build at install: no prepare (tsc and esbuild are not even installed there).
    expect(manifest.scripts).toBeUndefined();
  });

  it('`npm install --save-dev TARBALL` in another project: `npx repro compare` passes there, and its bin runs from any directory', { timeout: 120_000 }, async () => {
    const project = join(tmp, 'my-service');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'my-service', version: '1.0.0', private: true })}\n`);
    const installed = await run('npm', ['install', '--save-dev', '--prefer-offline', tarball], project);
    expect(installed.exitCode, installed.stderr).toBe(0);

    const compare = await run('npx', ['repro', 'compare', '--no-chart'], project);
    expect(compare.exitCode, compare.stderr).toBe(0);
    expect(compare.stdout).toMatch(/^PASS: broken leaks to EMFILE, correct stays flat$/m);

    // The CLI finds its children and schema next to itself, not from the working directory.
    const correct = await run(join(project, 'node_modules/.bin/repro'), ['correct', '--reloads', '20', '--no-chart'], '/');
    expect(correct.exitCode, correct.stderr).toBe(0);
    expect(correct.stdout).toContain('ok: 20 of 20 reloads taken');
  });

  it('`npm install -g TARBALL` into a temp prefix: `repro list` and `repro correct` run from /tmp', { timeout: 120_000 }, async () => {
    const prefix = join(tmp, 'prefix');
    const installed = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], tmpdir());
    expect(installed.exitCode, installed.stderr).toBe(0);
    const bin = join(prefix, 'bin/repro');
    expect(realpathSync(bin)).toBe(join(prefix, 'lib/node_modules/repro/bin/repro.js'));

    const list = await run(bin, ['list'], tmpdir());
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^sighup-listener \(SIGHUP\)$/m);
    const correct = await run(bin, ['correct', '--reloads', '20', '--no-chart'], tmpdir());
    expect(correct.exitCode, correct.stderr).toBe(0);
    expect(correct.stdout).toContain('ok: 20 of 20 reloads taken');
  });
});

describe('in the checkout', () => {
  it('`npx repro` runs node_modules/.bin/repro (the bin/ workspace) in place: no install into the npx cache', async () => {
    // A fresh cache: had npx gone for its cache, _npx/ would be made there. No scripts: that install would run
    // prepare, rebuilding dist/ under the other test files.
    const cache = join(tmp, 'npm-cache');
    const result = await run('npx', ['--offline', '--ignore-scripts', '--cache', cache, 'repro', '--version'], ROOT);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(existsSync(join(cache, '_npx'))).toBe(false);
  });

  it('`repro` as a command starts Node without NODE_EXTRA_CA_CERTS (Node would parse it at start) and gives it back, unchanged, to what it runs', async () => {
    // A file that does not exist: a Node started with it warns on stderr ("Ignoring extra certs").
    const ca = join(tmp, 'no such dir', 'ca $HOME "x".pem');
    const envFile = join(tmp, 'child-env');
    const env = { ...npmEnv(), NODE_EXTRA_CA_CERTS: ca };
    const child = `env > "$0"; trap : HUP; sleep 600 & while :; do wait $!; done`;
    const result = await execa(join(ROOT, 'node_modules/.bin/repro'), ['watch', '--reloads', '1', '--quiet', '--', 'sh', '-c', child, envFile], { cwd: ROOT, env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 });
    expect(String(result.stderr)).not.toContain('extra certs');
    expect(result.exitCode, String(result.stdout)).toBe(0);
    const seen = readFileSync(envFile, 'utf8').split('\n');
    expect(seen).toContain(`NODE_EXTRA_CA_CERTS=${ca}`);
    expect(seen.filter((line) => line.startsWith('REPRO_LAUNCHER_'))).toEqual([]);

    // Unset stays unset; `node bin/repro.js` (the #! line skipped) leaves the environment alone too.
    const { NODE_EXTRA_CA_CERTS: _, ...bare } = env;
    for (const command of [[join(ROOT, 'node_modules/.bin/repro')], [process.execPath, join(ROOT, 'bin/repro.js')]]) {
      const [file, ...pre] = command as [string, ...string[]];
      const again = await execa(file, [...pre, 'watch', '--reloads', '1', '--quiet', '--', 'sh', '-c', child, envFile], { cwd: ROOT, env: bare, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 });
      expect(again.exitCode, String(again.stdout)).toBe(0);
      expect(readFileSync(envFile, 'utf8')).not.toMatch(/^(NODE_EXTRA_CA_CERTS|REPRO_LAUNCHER_)/m);
    }
  });

  it('a plain `npm pack` is refused (its prepack) with the command that makes a tarball with the bin', async () => {
    // The hook npm pack runs first, run alone: without it, npm pack would go on to prepare, rebuilding dist/ under the other test files.
    const result = await run('npm', ['run', 'prepack'], ROOT);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('run `npm run tarball`');
  });
});
