/**
 * The trials kind's judge: every trial must show the role's one named outcome.
 * A trial repro could not read (`unknown`), or fewer trials than the role
 * needs, makes the run inconclusive when nothing contradicts the expectation;
 * a trial with another named outcome fails it. The one trials judge: the CLI,
 * `repro report` and the tests use it. Pure.
 */
import type { Check, Expectation, MeasuredRun, RunDocument, Verdict } from '../../model/run-document.js';
import type { TrialsRecord } from './record.js';

/** The outcome of a trial repro could not read. */
export const UNKNOWN_OUTCOME = 'unknown';

/** What the trials judge reads of a run: its trials (absent when none ran) and how it ended. */
export interface TrialsJudged {
  trials?: Pick<TrialsRecord, 'results' | 'tally'>;
  end: Pick<MeasuredRun['end'], 'detail'>;
}

/** `7 coalesced, 2 survived, 1 unknown`: the tally, the largest first. */
export function tallySentence(tally: Record<string, number>): string {
  const parts = Object.entries(tally).sort((a, b) => b[1] - a[1]);
  return parts.length === 0 ? 'no trial' : parts.map(([outcome, n]) => `${n} ${outcome}`).join(', ');
}

export function judgeTrials(run: TrialsJudged, expectation: Expectation): Verdict {
  const rules = expectation.trials ?? { outcome: 'survived', minTrials: 1 };
  const results = run.trials?.results ?? [];
  const want = results.filter((r) => r.outcome === rules.outcome).length;
  const unknown = results.filter((r) => r.outcome === UNKNOWN_OUTCOME).length;
  const other = results.length - want - unknown;
  const firstOther = results.find((r) => r.outcome !== rules.outcome && r.outcome !== UNKNOWN_OUTCOME);
  const firstUnknown = results.find((r) => r.outcome === UNKNOWN_OUTCOME);
  const checks: Check[] = [];
  if (results.length === 0) {
    checks.push({ id: 'ended', ok: false, text: `no trial ran: ${run.end.detail}` });
  } else {
    const ok = other === 0 && unknown === 0;
    const why = firstOther ? `; trial ${firstOther.trial}: ${firstOther.detail}` : firstUnknown ? `; trial ${firstUnknown.trial} could not be read: ${firstUnknown.detail}` : '';
    checks.push({ id: 'trials:outcome', ok, text: `${want} of ${results.length} trials ${rules.outcome} (${tallySentence(run.trials?.tally ?? {})})${ok ? '' : why}` });
    checks.push({ id: 'trials:count', ok: results.length >= rules.minTrials, text: `${results.length} trials ran, ${rules.minTrials} needed${results.length >= rules.minTrials ? '' : `: ${run.end.detail}`}` });
  }
  const pass = checks.every((c) => c.ok);
  // Only what repro could not see keeps a run from failing outright: one trial with another named outcome is an answer.
  const couldNotTell = !pass && other === 0;
  return { pass, ...(couldNotTell ? { inconclusive: true } : {}), checks: [...checks.filter((c) => !c.ok), ...checks.filter((c) => c.ok)], expectation };
}

/** A trials run that passed, in a compare's sentence. */
export function trialsRunSummary(run: RunDocument): string {
  return run.trials ? `${run.trials.results.length} trials: ${tallySentence(run.trials.tally)}` : '';
}
