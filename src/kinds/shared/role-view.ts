/**
 * The view of a scenario's role run (reloads, rounds; a drain that never got
 * its load falls back on it): what the run ran as, its fd rows, its child. Pure.
 */
import type { RunDocument } from '../../model/run-document.js';
import type { KindView } from '../view.js';
import { fdGrowthSentence, patternRows, roleLabel, roleTitle } from './fd-facts.js';

export const roleView: KindView = {
  title: roleTitle,
  label: roleLabel,
  rows: patternRows,
  compareRows: () => undefined,
  expectation: (run) => run.verdict.expectation.shows,
  inOneBreath: () => undefined,
  failureSentence: fdGrowthSentence,
  requests: () => undefined,
  streamHeadings: () => ({ stderr: 'child stderr (evidence):', stdout: 'child stdout outside the protocol:' }),
  attribution: (run) => ({ title: `where the leaked fds of ${run.role} came from`, what: 'leaked fds (open at the last sample, not at the baseline)', noneInOneLine: true }),
  junitClass: (run: RunDocument) => `repro.${[run.scenario, run.runtime, ...Object.values(run.options)].join('.')}`,
  suiteName: (run) => `repro ${run.role} ${run.scenario}`,
  junitFailure: () => undefined,
  baselineMeasure: (run) => ({ measure: 'growth', value: run.measured.growthPerReload }),
};
