/**
 * reload-under-load, end to end: `repro compare` with the real children
 * (Python: three roles; Node: two), 4 reloads each. The broken roles lose
 * requests by refusal (the listener closed or gone in the reload); the
 * correct one loses none, and each of its reloads is shown by its
 * acknowledgement.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

async function compare(runtime: string, extra: string[] = []): Promise<{ exitCode: number | undefined; runs: RunDocument[]; stdout: string }> {
  const r = await repro(['compare', '--scenario', 'reload-under-load', '--runtime', runtime, '--reloads', '4', '--json', ...extra], { timeout: 90_000 });
  const doc = JSON.parse(r.stdout) as CompareDocument;
  // What a failure shows: the verdict's checks and each run's windows, not the head of the JSON.
  const said = [...doc.verdict.checks.map((c) => `${c.ok ? 'ok' : 'NOT'}: ${c.text}`), ...doc.runs.map((run) => `${run.role}: ${JSON.stringify(run.reloadLoad?.windows)} ${run.reloadLoad?.note ?? ''}`)].join('\n');
  return { exitCode: r.exitCode, runs: doc.runs, stdout: said };
}

/** The SVG's requests panel of one run: its group (in the run's panel, found by data-run), and the losses it draws per window. */
function drawnPanel(svg: string, role: string): { total: number; lost: number; windows: Map<number, number>; lossRects: string[] } | undefined {
  const group = svg.split(' data-run="').find((g) => g.startsWith(`${role}"`));
  const head = group?.match(/<g class="reload-load" data-total="(\d+)" data-lost="(\d+)">/);
  if (!group || !head) return undefined;
  const windows = new Map([...group.matchAll(/<g class="window" data-reload="(\d+)" data-ok="\d+" data-lost="(\d+)">/g)].map((m) => [Number(m[1]), Number(m[2])]));
  return { total: Number(head[1]), lost: Number(head[2]), windows, lossRects: [...group.matchAll(/class="lost (\w+)"/g)].map((m) => m[1] as string) };
}

const refused = (run: RunDocument | undefined) => run?.reloadLoad?.windows.reduce((n, w) => n + (w.lostBy.refused ?? 0), 0) ?? 0;

describe('reload-under-load', () => {
  it('compare --runtime python exits 0: close-relisten and reexec lose requests by refusal, keep loses none; the SVG and HTML draw each window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repro-rul-'));
    const { exitCode, runs, stdout } = await compare('python', ['--svg', join(dir, 'run.svg'), '--html', join(dir, 'run.html')]);
    const svg = readFileSync(join(dir, 'run.svg'), 'utf8');
    const html = readFileSync(join(dir, 'run.html'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    expect(exitCode, stdout).toBe(0);
    // The panel under each run's fds draws every window of its ledger, losses below the axis by class.
    for (const run of runs) {
      const panel = drawnPanel(svg, run.role);
      expect(panel, run.role).toBeDefined();
      expect(panel?.total).toBe(run.reloadLoad?.total);
      expect(panel?.lost).toBe(run.reloadLoad?.lost);
      expect([...(panel?.windows.entries() ?? [])]).toEqual(run.reloadLoad?.windows.map((w) => [w.reload, w.lost]));
      expect(panel?.lossRects.includes('refused')).toBe(refused(run) > 0);
    }
    expect(svg.match(/class="signal /g)?.length).toBe(runs.reduce((n, r) => n + (r.reloadLoad?.windows.filter((w) => w.reload > 0).length ?? 0), 0));
    // The HTML's table: one row per window of each run, the windows that lost requests marked.
    expect(html.match(/<h2>Requests per reload window<\/h2>/g)?.length).toBe(runs.length);
    expect(html.match(/<tr class="lost">/g)?.length ?? 0).toBe(runs.reduce((n, r) => n + (r.reloadLoad?.windows.filter((w) => w.lost > 0).length ?? 0), 0));
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
    expect(exitCode, stdout).toBe(0);
    expect(refused(runs.find((r) => r.role === 'close-relisten'))).toBeGreaterThan(0);
    expect(runs.find((r) => r.role === 'keep')?.reloadLoad?.lost).toBe(0);
  }, 90_000);
});
