/**
 * --attribute for the scenario runs (repro broken / correct / compare),
 * through the built CLI with the real protocol children under strace: the
 * broken child's leaked fds (open at the last sample, not at the baseline)
 * attributed to the call, the reload and the stack that made them, ≥ 95% of
 * them; the correct child leaked nothing, so it has no groups and a line
 * says so. Node (sighup-listener: pipe2 through koffi from the listener)
 * and C (runtime-teardown: openat in the program's own round_). Refused
 * with a load-and-signal scenario (exit 2); without strace, exit 3. The
 * tracer goes with the run, also after SIGKILL of repro.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { BIN, repro } from '../support/cli.js';
import { goneWithin, waitFor } from '../support/processes.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/run-document.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repro-scenario-attribute-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  const out = join(dir, `run-${Math.random().toString(36).slice(2)}`);
  const result = await repro([...args, '--attribute', '--no-chart', '--out', `${out}.json`, '--html', `${out}.html`, '--markdown', `${out}.md`], { timeout: 120_000 });
  const doc = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as RunDocument | CompareDocument;
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  return { result, doc, html: readFileSync(`${out}.html`, 'utf8'), md: readFileSync(`${out}.md`, 'utf8') };
}

describe('repro broken|compare --attribute on the scenario children', () => {
  it('sighup-listener, Node broken: 2 per reload from pipe2 (koffi, from the listener), first at reload 1, every leaked fd attributed', async () => {
    const { result, doc, html, md } = await run(['broken']);
    expect(result.exitCode).toBe(0);
    const broken = doc as RunDocument;
    const emfile = broken.measured.emfileAtReload as number;
    expect(emfile).toBeGreaterThan(1);
    const a = broken.attribution;
    // Every reload before the failed one left its pipe pair: those are the leaked fds.
    expect(a?.survivors).toBe(2 * (emfile - 1));
    expect((a?.attributed ?? 0) / (a?.survivors ?? 1)).toBeGreaterThanOrEqual(0.95);
    const g = a?.groups[0];
    expect(g).toMatchObject({ pid: broken.pid, origin: 'call', syscall: 'pipe2', count: 2 * (emfile - 1), perReload: 2, firstReload: 1, createdAtReload: 1, frameOrigin: 'runtime', kinds: { pipe: 2 * (emfile - 1) } });
    expect(g?.command).toContain('sighup-listener/node/broken.js');
    // Node's native frames: the FFI library that called pipe2, then V8's call into it.
    expect(g?.frames[0]?.object).toMatch(/koffi\.node$/);
    expect(g?.frames.slice(1).every((f) => f.object === '/usr/bin/node' || f.object.endsWith('/node'))).toBe(true);
    expect(result.stdout).toContain('where the leaked fds of broken came from (--attribute):');
    expect(result.stdout).toMatch(/2 per reload from pipe2\(\[\d+, \d+\], O_NONBLOCK\|O_CLOEXEC\) in pid \d+ \(\S*node .*\), first at reload 1, still open/);
    expect(result.stdout).toMatch(/runtime frames \(node is an interpreter: the program's own lines are not in a native stack\): napi_register_module_v1 \(koffi\.node\) ← /);
    expect(html).toContain('<h2>Where the leaked fds of broken came from</h2>');
    expect(md).toContain('**Where the leaked fds of broken came from**');
  });

  it('runtime-teardown, C: broken leaks 8 per round from openat in its own round_; correct leaked nothing: no groups, a line saying so', async () => {
    const { result, doc, html, md } = await run(['compare', '--scenario', 'runtime-teardown', '--runtime', 'c', '--reloads', '12']);
    expect(result.exitCode).toBe(0);
    const compare = doc as CompareDocument;
    const broken = compare.runs.find((r) => r.role === 'broken') as RunDocument;
    const correct = compare.runs.find((r) => r.role === 'correct') as RunDocument;
    const emfile = broken.measured.emfileAtReload as number;
    const a = broken.attribution;
    expect(a?.survivors).toBe(8 * (emfile - 1));
    expect((a?.attributed ?? 0) / (a?.survivors ?? 1)).toBeGreaterThanOrEqual(0.95);
    const g = a?.groups[0];
    expect(g).toMatchObject({ origin: 'call', syscall: 'openat', args: 'AT_FDCWD, "/proc/self/exe", O_RDONLY|O_CLOEXEC', perReload: 8, firstReload: 1, frameOrigin: 'program' });
    // The C child takes SIGHUP through a signalfd: no delivery for strace to see, so the trace's own reload is left out and a note says why.
    expect(g?.createdAtReload).toBeUndefined();
    expect(a?.note).toMatch(/^the trace saw 0 of \d+ SIGHUP deliveries \(the program takes it without a delivery strace can see, e\.g\. through a signalfd\)/);
    // gcc's binary keeps its static functions' symbols: the program's own function, then its caller.
    expect(g?.frames.map((f) => f.symbol)).toEqual(['round_', 'main']);
    expect(correct.attribution).toMatchObject({ survivors: 0, attributed: 0, groups: [] });
    expect(correct.measured.reloadsDone).toBe(12);
    expect(result.stdout).toContain('where the leaked fds of broken came from (--attribute):');
    expect(result.stdout).toMatch(/8 per reload from openat\(AT_FDCWD, "\/proc\/self\/exe", O_RDONLY\|O_CLOEXEC\) in pid \d+ \(\/.*\), first at reload 1, still open\n\s+program frames: round_ ← main/);
    expect(result.stdout).toContain('where the leaked fds of correct came from (--attribute):\n  no fd leaked: none open at the last sample that was not open at the baseline, so nothing to attribute');
    expect(html).toContain('<h2>Where the leaked fds of correct came from</h2>');
    expect(md).toContain('**Where the leaked fds of correct came from** (no fd leaked');
  });
});

describe('repro broken|correct|compare --attribute cannot run', () => {
  it('with a load-and-signal scenario: exit 2, one line', async () => {
    const result = await repro(['compare', '--scenario', 'graceful-drain', '--attribute']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['repro: --attribute applies to the reload scenarios (sighup-listener, log-reopen, runtime-teardown), not graceful-drain; leave it out']);
  });

  it('without strace on PATH: exit 3, one line saying what to install, no child started', async () => {
    const path = join(dir, 'path-without-strace');
    mkdirSync(path, { recursive: true });
    for (const tool of ['sh', 'setpriv', 'mkfifo', 'true']) {
      try {
        symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(path, tool));
      } catch {
        // already there
      }
    }
    const result = await repro(['correct', '--attribute', '--reloads', '2'], { env: { PATH: path } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim().split('\n')).toEqual(['repro: --attribute needs strace, which is not on PATH: install it (apt-get install strace, dnf install strace, apk add strace)']);
  });
});

/** The traced child of the run whose environment holds `marker` (not its tracer), and its tracer's pid, from one read. */
function tracedChild(marker: string): Promise<{ child: number; tracer: number }> {
  return waitFor('the traced child', () => {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (!readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) continue;
        if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'strace') continue;
        const tracer = Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1] ?? 0);
        if (tracer > 0) return { child: Number(name), tracer };
      } catch {
        // gone, or not readable (environ needs ptrace access: pid 1 here)
      }
    }
    return undefined;
  }, 30_000);
}

describe('the tracer goes with a scenario run', () => {
  it('after SIGKILL of repro, the child and its tracer are gone within 2 s', async () => {
    const marker = `REPRO_SCENARIO_ATTRIBUTE=${randomUUID()}`;
    const [key, value] = marker.split('=') as [string, string];
    const running = execa(process.execPath, [BIN, 'broken', '--attribute', '--ulimit', '4096', '--reloads', '100000', '--json'], { reject: false, env: { NO_COLOR: '1', [key]: value } });
    const { child, tracer } = await tracedChild(marker);
    expect(readFileSync(`/proc/${tracer}/comm`, 'utf8').trim()).toBe('strace');
    await new Promise((r) => setTimeout(r, 500));
    running.kill('SIGKILL');
    await running;
    expect(await goneWithin(child, 2000)).toBe(true);
    expect(await goneWithin(tracer, 2000)).toBe(true);
  });
});
