/** The two shapes of expectation every scenario's roles take: leak to EMFILE, or stay flat. */
import type { Expectation } from '../model/run-document.js';

/** A role that leaks `fdsPerReload` per reload until EMFILE, at the predicted reload. */
export function leaksToEmfile(shows: string, fdsPerReload: number, maxGrowth: number, more: Partial<Expectation> = {}): Expectation {
  return {
    shows,
    fdsPerReload,
    maxGrowth,
    registerFailure: 'expected',
    flatMetrics: [],
    growingMetrics: [],
    allReloads: false,
    earlyIsInconclusive: false,
    ...more,
  };
}

/** A role whose fds stay flat (growth ≤ `maxGrowth`) over every planned reload, with no EMFILE. */
export function staysFlat(shows: string, maxGrowth: number, more: Partial<Expectation> = {}): Expectation {
  return {
    shows,
    fdsPerReload: 0,
    maxGrowth,
    registerFailure: 'forbidden',
    flatMetrics: [],
    growingMetrics: [],
    allReloads: true,
    earlyIsInconclusive: false,
    ...more,
  };
}
