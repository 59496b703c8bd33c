/**
 * reload-under-load, end to end: `repro compare` with the real children
 * (Python: three roles; Node: two), 4 reloads each. The broken roles lose
 * requests by refusal (the listener closed or gone in the reload); the
 * correct one loses none, and each of its reloads is shown by its
 * acknowledgement.
 */
import { describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

async function compare(runtime: string): Promise<{ exitCode: number | undefined; runs: RunDocument[]; stdout: string }> {
  const r = await repro(['compare', '--scenario', 'reload-under-load', '--runtime', runtime, '--reloads', '4', '--json'], { timeout: 90_000 });
  const doc = JSON.parse(r.stdout) as CompareDocument;
  return { exitCode: r.exitCode, runs: doc.runs, stdout: r.stdout };
}

const refused = (run: RunDocument | undefined) => run?.reloadLoad?.windows.reduce((n, w) => n + (w.lostBy.refused ?? 0), 0) ?? 0;

describe('reload-under-load', () => {
  it('compare --runtime python exits 0: close-relisten and reexec lose requests by refusal, keep loses none', async () => {
    const { exitCode, runs, stdout } = await compare('python');
    expect(exitCode, stdout.slice(0, 4000)).toBe(0);
    const byRole = new Map(runs.map((r) => [r.role, r]));
    expect(refused(byRole.get('close-relisten'))).toBeGreaterThan(0);
    // Its new socket or its acknowledgement, whichever /proc showed first.
    expect(byRole.get('close-relisten')?.reloadLoad?.windows[1]?.evidence).toMatch(/acknowledged by the program|listener re-created/);
    expect(refused(byRole.get('reexec'))).toBeGreaterThan(0);
    const keep = byRole.get('keep');
    expect(keep?.reloadLoad?.lost).toBe(0);
    expect(keep?.reloadLoad?.tookEffect).toBe(4);
    expect(keep?.measurement).toBe('tree');
  }, 90_000);

  it('--attribute is refused in one line (exit 2): the servers under load run untraced', async () => {
    const r = await repro(['compare', '--scenario', 'reload-under-load', '--attribute']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['repro: --attribute applies to the reload scenarios (sighup-listener, log-reopen, runtime-teardown), not reload-under-load; leave it out']);
  });

  it('compare --runtime node exits 0: close-relisten loses requests by refusal, keep loses none', async () => {
    const { exitCode, runs, stdout } = await compare('node');
    expect(exitCode, stdout.slice(0, 4000)).toBe(0);
    expect(refused(runs.find((r) => r.role === 'close-relisten'))).toBeGreaterThan(0);
    expect(runs.find((r) => r.role === 'keep')?.reloadLoad?.lost).toBe(0);
  }, 90_000);
});
