/**
 * queue-drain with its real Python workers: repro is the broker on a unix
 * socket, SIGTERM goes right after a seeded job is handed out, and the ledger
 * says what became of every job. The verdict reads the ledger, never the exit
 * code: the sync exit-in-handler worker exits 0 and still loses its job, and
 * the threaded one hangs until SIGKILL, its workers taking jobs after SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { runLedger } from '../../src/harness/drivers/ledger-run.js';
import { defaultProbe } from '../../src/fdprobe/index.js';
import { ledgerFailure } from '../../src/kinds/ledger/judge.js';
import type { CompareDocument, LedgerRun } from '../../src/model/run-document.js';
import { renderHtml } from '../../src/report/formats/html.js';
import { renderMarkdown } from '../../src/report/formats/markdown.js';
import { renderSvg } from '../../src/report/formats/svg.js';
import { formatCompare } from '../../src/report/summary.js';
import { pythonChild } from '../../src/runtimes/index.js';
import { reproJson } from '../support/cli.js';
import { goneWithin } from '../support/processes.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/run-document.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);

function threaded(role: string) {
  return runLedger(
    {
      scenario: 'queue-drain',
      role,
      roleKind: role === 'correct' ? 'correct' : 'broken',
      runtime: 'python',
      options: { workers: 'threads' },
      signal: 'SIGTERM',
      command: pythonChild('src/scenarios/queue-drain/python/worker.py', [role, '--workers', 'threads']),
      exercise: 'queue',
      readyTimeoutMs: 30_000,
      graceMs: 1000,
      seed: 3,
    },
    { probe: defaultProbe() },
  );
}

describe('queue-drain, Python workers', () => {
  it('compare (sync worker): each broken role fails by its own named cause, the exit-0 worker included; correct acknowledges every job and exits 0; the document validates', async () => {
    const { exitCode, run: doc, stderr } = await reproJson<CompareDocument>(['compare', '--scenario', 'queue-drain'], { timeout: 90_000 });
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const runs = Object.fromEntries((doc?.runs ?? []).map((r) => [r.role, r as LedgerRun]));
    const of = (role: string) => {
      const ledger = runs[role]?.ledger;
      if (!ledger) throw new Error(`no ledger for ${role}`);
      return ledger;
    };
    // The child's exit as the run recorded it, apart from the ledger: the two broken workers end differently, and both lose the job in flight.
    expect(runs['default-sigterm']?.end.child?.signal).toBe('SIGTERM');
    expect(runs['exit-in-handler']?.end.child?.exitCode).toBe(0);
    expect(ledgerFailure(of('default-sigterm'))).toBe('killed-by-signal');
    expect(ledgerFailure(of('exit-in-handler'))).toBe('exit-0-but-lost');
    for (const role of ['default-sigterm', 'exit-in-handler']) {
      expect(of(role).entries.outAtSignal).toBeGreaterThanOrEqual(1);
      expect(of(role).entries.lost).toBe(1);
      expect(runs[role]?.verdict.pass).toBe(true);
    }
    const correct = of('correct');
    expect(runs.correct?.end.child?.exitCode).toBe(0);
    expect(correct.entries).toMatchObject({ lost: 0, unsettled: 0 });
    expect(correct.entries.acknowledged).toBe(correct.entries.handedOut);
    expect(correct.entries.outAtSignal).toBeGreaterThanOrEqual(1);
    // A sample each is no line over reloads: no empty fds chart, and the SVG shows each run's rows instead of empty axes.
    if (!doc) throw new Error('no document');
    const text = formatCompare(doc, { color: false, width: 80, columns: 80, chart: true });
    expect(text).toContain('handed out');
    expect(text).not.toContain('reload →');
    const svg = renderSvg(doc);
    expect(svg).not.toContain('class="series"');
    expect(svg.match(/class="card"/g)).toHaveLength(3);
    expect(svg).toContain('>exit-0-but-lost: exit 0 and still 1 job lost<');
    // Nor in the Markdown (a Mermaid chart of one point) or the HTML (what grew over no reloads).
    expect(renderMarkdown(doc)).not.toContain('xychart-beta');
    const html = renderHtml(doc);
    expect(html).not.toContain('What grew, by kind');
    expect(html).toContain('What each run showed');
  }, 90_000);

  it('threaded: sys.exit(0) in the handler hangs until SIGKILL while its workers keep taking jobs; the correct worker stops taking and loses none', async () => {
    const hung = await threaded('exit-in-handler');
    expect(hung.ledger?.ending.how).toBe('killed-after-grace');
    expect(ledgerFailure(hung.ledger as NonNullable<typeof hung.ledger>)).toBe('hung-until-sigkill');
    // Jobs taken after SIGTERM: the handler did not stop the workers.
    expect(hung.ledger?.entries.handedOutAfterSignal).toBeGreaterThan(4);
    expect(hung.ledger?.entries.lost).toBeGreaterThanOrEqual(1);
    expect(await goneWithin(hung.pid as number, 2000)).toBe(true);
    const correct = await threaded('correct');
    expect(correct.ledger?.ending).toMatchObject({ how: 'exited', exitCode: 0, signal: null });
    expect(correct.ledger?.entries).toMatchObject({ lost: 0, unsettled: 0 });
    // A job already on its way when TERM lands is taken and finished (0–3 of them in 20 threaded compares): not a failure, and no more than that.
    expect(correct.ledger?.entries.handedOutAfterSignal).toBeLessThanOrEqual(8);
  }, 90_000);
});
