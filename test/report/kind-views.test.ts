// The views ask a run's kind for what differs by kind: a drain with its ledger reads as a drain,
// one that never got its load as what it came from (a scenario's role, or the program `repro drain` ran).
import { describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { documentTitle, growthSentence, requestsOf, runLabel, runTitle } from '../../src/report/facts.js';
import { renderJunit } from '../../src/report/formats/junit.js';

/** Only what the titles, labels and JUnit names read of a run. */
function drainRun(roleKind: 'watch' | 'broken', drain?: unknown): RunDocument {
  return {
    schemaVersion: 2,
    kind: 'run',
    measurement: 'drain',
    scenario: roleKind === 'watch' ? 'drain' : 'graceful-drain',
    role: roleKind === 'watch' ? 'watch' : 'broken',
    roleKind,
    runtime: 'python',
    options: {},
    signal: 'SIGTERM',
    command: ['/usr/bin/python3', 'server.py'],
    ulimit: 1024,
    ulimitGiven: false,
    reloadsPlanned: 0,
    fdsAboveLimitAtStart: 0,
    platform: { os: 'linux', arch: 'x64', release: '6', node: 'v20', probe: 'procfs' },
    startedAt: '2024-01-01T00:00:00.000Z',
    samples: [],
    metrics: [],
    events: [],
    end: { reason: 'aborted', detail: 'stopped', child: null, wallMs: 10 },
    stdout: { bytes: 0, text: '', truncated: false },
    stderr: { bytes: 0, text: '', truncated: false },
    measured: { growthPerReload: 0, reloadsDone: 0, emfileAtReload: null, growthByKind: {} },
    verdict: { pass: false, checks: [{ id: 'drain:load', ok: false, text: 'no load' }], expectation: { shows: 'no request lost', drain: {} } },
    ...(drain ? { drain } : {}),
  } as unknown as RunDocument;
}

const ledger = { plan: { lagMs: 500, graceMs: 2000 }, ledger: { lost: 3, total: 40, causes: [], timings: {}, counts: {}, inFlightAtSignal: 2 } };

describe('a drain run, as its kind says', () => {
  it('with its ledger, repro drain is titled and named as a drain, and fails on the requests it lost', () => {
    const run = drainRun('watch', ledger);
    expect(requestsOf(run)).toBe(ledger);
    expect(runTitle(run)).toBe('repro drain · /usr/bin/python3 server.py · SIGTERM · lag 500 ms · grace 2000 ms');
    expect(growthSentence(run)).toBe('lost 3 of 40 requests; 2 in flight at the signal');
    const junit = renderJunit(run);
    expect(junit).toContain('<testsuite name="repro drain /usr/bin/python3 server.py"');
    expect(junit).toContain('classname="repro.drain"');
    expect(junit).toContain('type="request-loss"');
  });

  it('without a ledger, repro drain reads as the program it watched', () => {
    const run = drainRun('watch');
    expect(requestsOf(run)).toBeUndefined();
    expect(runTitle(run)).toBe('repro watch · /usr/bin/python3 server.py · SIGTERM × 0 · limit 1024 (its own)');
    expect(runLabel(run)).toBe('python3');
    const junit = renderJunit(run);
    expect(junit).toContain('<testsuite name="repro watch /usr/bin/python3 server.py"');
    expect(junit).toContain('classname="repro.watch.python3"');
    expect(junit).not.toContain('request-loss');
  });

  it("without a ledger, graceful-drain's role reads as a scenario's role", () => {
    const run = drainRun('broken');
    expect(runTitle(run)).toBe('repro broken · graceful-drain · python · ulimit -n 1024');
    expect(runTitle({ ...run, runtime: 'node' })).toBe('repro broken · graceful-drain · node v20 · ulimit -n 1024');
    expect(runLabel(run)).toBe('broken (python)');
    expect(renderJunit(run)).toContain('classname="repro.graceful-drain.python"');
  });
});

describe("a compare's title", () => {
  const compare = (runtime: string) =>
    ({ schemaVersion: 2, kind: 'compare', scenario: 'graceful-drain', runtime, runs: [drainRun('broken')], wallMs: 16_300 }) as unknown as CompareDocument;

  it("names Node's version only where the children run on Node: after another runtime it read as that runtime's", () => {
    expect(documentTitle(compare('python'))).toBe('repro compare · graceful-drain · python · 16.30 s');
    expect(documentTitle(compare('node'))).toBe('repro compare · graceful-drain · node v20 · 16.30 s');
  });
});
