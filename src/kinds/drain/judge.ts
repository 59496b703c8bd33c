/**
 * The drain kind's judge: a load-and-signal run judged by its ledger
 * (graceful-drain, repro drain), never by fd growth (one baseline sample, no
 * reloads). The one drain judge: the CLI, `repro report` and the tests use it.
 */
import { type DrainCheck, drainChecks, drainInconclusive, type DrainRecord, exitSentence } from '../../model/drain.js';
import type { Check, Expectation, MeasuredRun, RunDocument, Verdict } from '../../model/run-document.js';

/** What the drain judge reads of a run: its ledger and how the load ended (absent when it never got that far), and the run's own end. */
export interface DrainJudged {
  /** The run's ledger and how the load-and-signal driver ended. */
  drain?: Pick<DrainRecord, 'ended' | 'ledger'>;
  /** How the run ended: named when the load never started. */
  end: Pick<MeasuredRun['end'], 'detail'>;
}

/** A ledger check's id in the verdict: `ended` as every kind names it, the others under `drain:`. */
const verdictId = (c: DrainCheck) => (c.id === 'ended' ? 'ended' : `drain:${c.id}`);

/**
 * Inconclusive when the expectation allows it and the run could not tell
 * (stopped early, too few requests, no load at the signal) without losing anything.
 */
export function judgeDrain(run: DrainJudged, expectation: Expectation): Verdict {
  const drain = run.drain;
  const rules = expectation.drain ?? { losses: 'none', minRequests: 0, exit: 'any' };
  const ledgerChecks = drain ? drainChecks({ ended: drain.ended, ledger: drain.ledger }, rules) : [];
  const checks: Check[] = drain ? ledgerChecks.map((c) => ({ ...c, id: verdictId(c) })) : [{ id: 'ended', ok: false, text: `run ended before any load: ${run.end.detail}` }];
  const couldNotTell = drain ? drainInconclusive({ ended: drain.ended, ledger: drain.ledger }, ledgerChecks) : true;
  const pass = checks.every((c) => c.ok);
  return {
    pass,
    ...(expectation.earlyIsInconclusive && couldNotTell && !pass ? { inconclusive: true } : {}),
    checks: [...checks.filter((c) => !c.ok), ...checks.filter((c) => c.ok)],
    expectation,
  };
}

/** A drain run that passed, in a compare's sentence. */
export function drainRunSummary(run: RunDocument): string {
  return run.drain ? `lost ${run.drain.ledger.lost} of ${run.drain.ledger.total} requests, ${exitSentence(run.drain.ledger)}` : '';
}
