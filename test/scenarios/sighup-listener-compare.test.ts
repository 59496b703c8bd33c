// repro compare --runtime rust through the command layer: every role of the scenario, each judged by its own expectation.
import { describe, expect, it } from 'vitest';
import { runCompare, SCENARIO_DEFAULTS } from '../../src/cli/commands/scenario.js';

describe('sighup-listener, --runtime rust', () => {
  it('runs broken, correct and the tokio-per-reload variant, and each shows what its role expects', async () => {
    const doc = await runCompare({ ...SCENARIO_DEFAULTS, runtime: 'rust', reloads: 200, ackTimeout: 5000, readyTimeout: 120_000 });
    expect(doc.runs.map((r) => r.role)).toEqual(['broken', 'correct', 'tokio-per-reload']);
    const [broken, correct, variant] = doc.runs;
    expect(broken?.measured).toMatchObject({ growthPerReload: 2, registerFailure: 'EMFILE', signalHandling: 'dead' });
    expect(broken?.measured.emfileAtReload).toBe(broken?.measured.predictedEmfileAtReload);
    expect(correct?.measured.growthPerReload).toBe(0);
    expect(correct?.measured.metrics.listeners).toMatchObject({ start: 1, end: 1 });
    // The write-up's claim does not hold for Tokio 1.x: fds flat, listeners one more per reload.
    expect(variant?.measured.growthPerReload).toBe(0);
    expect(variant?.measured.metrics.listeners).toMatchObject({ start: 1, end: 201, growthPerReload: 1 });
    expect(variant?.samples.every((s) => s.metrics?.threads !== undefined)).toBe(true);
    expect(doc.verdict.pass).toBe(true);
  }, 300_000);
});
