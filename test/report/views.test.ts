// Pure pieces of the report views: scales, decimation, escaping, CSV quoting and the baseline gate.
import { describe, expect, it } from 'vitest';
import { checkBaseline } from '../../src/kinds/baseline.js';
import { withBaseline } from '../../src/model/baseline.js';
import type { RunDocument } from '../../src/model/run-document.js';
import { roundLines } from '../../src/report/facts.js';
import { renderCsv } from '../../src/report/formats/csv.js';
import { decimate, niceTicks } from '../../src/report/formats/scale.js';
import { esc } from '../../src/report/formats/xml.js';

describe('niceTicks', () => {
  it.each([
    [69, 6, [0, 20, 40, 60, 80]],
    [27, 6, [0, 5, 10, 15, 20, 25, 30]],
    [500, 5, [0, 100, 200, 300, 400, 500]],
    [1, 5, [0, 1]],
    [19_000, 6, [0, 5000, 10000, 15000, 20000]],
  ])('0..%d in about %d steps → %j', (max, count, ticks) => {
    expect(niceTicks(max, count)).toEqual(ticks);
  });

  it('always reaches the maximum', () => {
    for (let max = 1; max < 3000; max += 7) expect(niceTicks(max, 6).at(-1)).toBeGreaterThanOrEqual(max);
  });
});

describe('decimate', () => {
  it('leaves short series alone', () => {
    const points = [0, 1, 2].map((x) => ({ x, y: x }));
    expect(decimate(points, 10)).toEqual(points);
  });

  it('keeps each bucket’s lowest and highest point, the first and the last, in x order', () => {
    const points = Array.from({ length: 10_000 }, (_, x) => ({ x, y: x === 4321 ? 999 : x % 3 }));
    const kept = decimate(points, 100);
    expect(kept.length).toBeLessThanOrEqual(201);
    expect(kept[0]).toEqual({ x: 0, y: 0 });
    expect(kept.at(-1)).toEqual({ x: 9999, y: 0 });
    expect(kept).toContainEqual({ x: 4321, y: 999 });
    expect(kept.map((p) => p.x)).toEqual([...kept.map((p) => p.x)].sort((a, b) => a - b));
  });
});

describe('esc', () => {
  it('escapes markup and drops control characters XML forbids', () => {
    expect(esc(`<a href="x">&'\u0007</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });
});

function run(role: string, growth: number, samples: RunDocument['samples'] = []): RunDocument {
  return { kind: 'run', measurement: 'reloads', role, samples, metrics: [], events: [], measured: { growthPerReload: growth }, verdict: { pass: true, checks: [{ id: 'growth', ok: true, text: 'flat' }] } } as unknown as RunDocument;
}

describe('checkBaseline', () => {
  it('fails only a rise above the tolerance, and folds it into the verdict first', () => {
    expect(checkBaseline(run('watch', 0.05), run('watch', 0), 'old.json', 0.05)?.pass).toBe(true);
    const check = checkBaseline(run('watch', 0.06), run('watch', 0), 'old.json', 0.05);
    expect(check).toMatchObject({ pass: false, runs: [{ run: 'watch', before: 0, after: 0.06, change: 0.06, regressed: true }] });
    const judged = withBaseline(run('watch', 0.06), check as NonNullable<typeof check>);
    expect(judged.verdict.pass).toBe(false);
    expect(judged.verdict.checks[0]).toMatchObject({ id: 'baseline:watch', ok: false });
    expect(judged.verdict.checks[0]?.text).toMatch(/^watch growth per reload rose from 0 to 0.06/);
  });

  it('a drop in growth passes; runs of other kinds are not compared', () => {
    expect(checkBaseline(run('correct', 0), run('correct', 1), 'old.json', 0)?.runs[0]?.regressed).toBe(false);
    expect(checkBaseline(run('correct', 0), run('watch', 0), 'old.json', 0)).toBeNull();
  });
});

describe('renderCsv', () => {
  it('has a column per metric the runs record, in their order, empty where a sample lacks it', () => {
    const doc = {
      ...run('broken', 2, [
        { reload: 0, elapsedMs: 1, fds: 3, fdsByKind: { pipe: 3 }, metrics: { listeners: 1, threads: 7 } },
        { reload: 1, elapsedMs: 2, fds: 5, fdsByKind: { pipe: 5 }, metrics: { listeners: 2 } },
      ]),
      metrics: [
        { id: 'listeners', label: 'listeners', unit: '', description: '' },
        { id: 'threads', label: 'threads', unit: '', description: '' },
      ],
    } as RunDocument;
    expect(renderCsv(doc).split('\r\n').slice(0, 3)).toEqual(['run,reload,elapsed_ms,fds,fds_pipe,listeners,threads,rss_kb,round_trip_ms,settle_ms', 'broken,0,1,3,3,1,7,,,', 'broken,1,2,5,5,2,,,,']);
  });

  it('quotes fields RFC 4180 style and fills absent kinds with 0', () => {
    const doc = run('watch', 0, [
      { reload: 0, elapsedMs: 1, fds: 3, fdsByKind: { pipe: 3 } },
      { reload: 1, elapsedMs: 2.5, fds: 4, fdsByKind: { pipe: 3, file: 1 }, settleMs: 60.1 },
    ]);
    expect(renderCsv(doc)).toBe(
      'run,reload,elapsed_ms,fds,fds_pipe,fds_file,rss_kb,round_trip_ms,settle_ms\r\nwatch,0,1,3,3,0,,,\r\nwatch,1,2.5,4,3,1,,,60.1\r\n',
    );
  });
});

describe('roundLines', () => {
  it('names what each leaking round left, with the fds and the queued closes read at its phase marker; a clean run says so', () => {
    const round = (n: number, left: number) => ({
      event: 'round',
      round: n,
      left,
      leftByKind: left ? { file: left } : {},
      leftFds: Array.from({ length: left }, (_, i) => ({ fd: 5 + 8 * (n - 1) + i, kind: 'file', inode: 1 })),
      phases: [{ name: 'closes-queued', fds: 22, ring: { fd: 4, sqes: left, closeFds: Array.from({ length: left }, (_, i) => 5 + 8 * (n - 1) + i) } }],
    });
    const leaky = { ...run('broken', 8), events: [1, 2, 3, 4, 5, 6, 7].map((n) => round(n, 8)) } as unknown as RunDocument;
    const lines = roundLines(leaky);
    expect(lines[0]).toBe('round 1: left 8 (file 8), fds 5–12; at closes-queued the ring held 8 queued SQEs, CLOSE of fds 5–12');
    expect(lines).toHaveLength(6);
    expect(lines.at(-1)).toBe('… and 2 more rounds that left fds');
    const clean = { ...run('correct', 0), measured: { reloadsDone: 500 }, events: [round(1, 0)] } as unknown as RunDocument;
    expect(roundLines(clean)).toEqual(['no round left an fd (500 rounds)']);
    expect(roundLines(run('watch', 0))).toEqual([]);
  });
});
