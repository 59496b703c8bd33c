/**
 * The drain kind's expectation: its ledger part (`Expectation.drain`) and the
 * fd fields a drain never reads, filled once here so callers name only what
 * a drain means.
 */
import type { DrainExpectation } from '../../model/drain.js';
import type { Expectation } from '../../model/run-document.js';

export type { DrainExpectation };

/** A drain expectation: what the run should show (the headline's words), its ledger rules, and whether a run that could not tell is inconclusive. */
export function drainExpectation(shows: string, drain: DrainExpectation, earlyIsInconclusive = false): Expectation {
  return { shows, fdsPerReload: 0, maxGrowth: 0, registerFailure: 'forbidden', flatMetrics: [], growingMetrics: [], allReloads: false, earlyIsInconclusive, drain };
}
