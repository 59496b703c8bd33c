/**
 * The view of a trials run (sigchld-reap, signal-coalescing, signal-safety):
 * the tally of outcomes and the numbers of the first and last trial, instead
 * of fds over reloads. A run that ended before any trial reads as a role. Pure.
 */
import type { RunDocument } from '../../model/run-document.js';
import { visibleLine } from '../../report/text.js';
import { roleView } from '../shared/role-view.js';
import type { KindView } from '../view.js';
import { tallySentence } from './judge.js';
import type { TrialResult, TrialsRecord } from './record.js';

type TrialsDoc = RunDocument & { trials: TrialsRecord };

const hasTrials = (run: RunDocument): run is TrialsDoc => run.trials !== undefined && run.trials.results.length > 0;

/** `zombies 3, reaped 7`: a trial's numbers in one line. */
function countsText(result: TrialResult | undefined): string {
  if (!result) return '—';
  const counts = Object.entries(result.counts).map(([k, v]) => `${k} ${v}`);
  return counts.length > 0 ? counts.join(', ') : '—';
}

/** The one trial a reader should look at: the first whose outcome differs from the expected, else the last. */
function telling(run: TrialsDoc): TrialResult | undefined {
  const want = run.verdict.expectation.trials?.outcome;
  return run.trials.results.find((r) => r.outcome !== want) ?? run.trials.results.at(-1);
}

function trialsRows(run: TrialsDoc): [string, string][] {
  const shown = telling(run);
  return [
    ['runtime', run.runtime],
    ['trials', `${run.trials.results.length} of ${run.trials.plan.trials}`],
    ['outcomes', tallySentence(run.trials.tally)],
    ['expected', run.verdict.expectation.trials?.outcome ?? '—'],
    [`trial ${shown?.trial ?? '—'}`, shown ? `${shown.outcome}: ${countsText(shown)}` : '—'],
    ['what it saw', shown ? visibleLine(shown.detail) : '—'],
  ];
}

const of = (f: (r: TrialsDoc) => string) => (r: RunDocument) => (hasTrials(r) ? f(r) : '—');

export const trialsView: KindView = {
  ...roleView,
  rows: (run) => (hasTrials(run) ? trialsRows(run) : roleView.rows(run)),
  compareRows: (runs) =>
    runs.every(hasTrials)
      ? [
          ['runtime', (r) => r.runtime],
          ['trials', of((r) => String(r.trials.results.length))],
          ['outcomes', of((r) => tallySentence(r.trials.tally))],
          ['expected', (r) => r.verdict.expectation.trials?.outcome ?? '—'],
          ['last trial', of((r) => countsText(r.trials.results.at(-1)))],
        ]
      : undefined,
  inOneBreath: (run) => (hasTrials(run) ? `${run.role}: ${tallySentence(run.trials.tally)} of ${run.trials.results.length} trials` : undefined),
  failureSentence: (run) => (hasTrials(run) ? `outcomes over ${run.trials.results.length} trials: ${tallySentence(run.trials.tally)}` : roleView.failureSentence(run)),
  junitFailure: (run) => {
    if (!hasTrials(run) || run.verdict.pass) return undefined;
    const failed = run.verdict.checks.find((c) => !c.ok);
    return { message: visibleLine(failed?.text ?? tallySentence(run.trials.tally)), type: 'trial-outcome' };
  },
};
