/**
 * The ledger kind's judge: a run is judged by what its ledger settled (every
 * entry handed out: acknowledged, lost by cause) and how the process ended,
 * never by its exit code alone: a worker that exits 0 with a job still taken
 * lost it. The one ledger judge: the CLI, `repro report` and the tests use it.
 */
import type { Check, Expectation, MeasuredRun, RunDocument, Verdict } from '../../model/run-document.js';
import { stallShown } from './latency.js';
import type { LatencyRecord, LedgerRecord } from './record.js';

/**
 * Why a run lost entries, by its own name: `none` (nothing lost, exit 0),
 * `killed-by-signal` (the signal's default action ended it), `exit-0-but-lost`
 * (it exited 0 and entries were still lost), `exit-nonzero` (it exited with
 * an error code), `hung-until-sigkill` (still there after the grace period),
 * `over-latency-bound` (it served through repeated signals, and requests were
 * answered later than the bound, or not at all).
 */
export type LedgerFailure = 'none' | 'killed-by-signal' | 'exit-0-but-lost' | 'exit-nonzero' | 'hung-until-sigkill' | 'over-latency-bound';

/** What a ledger run must show. */
export interface LedgerExpectation {
  /** `none`: nothing lost and exit 0 (the fix); `some`: entries lost by the named `failure` (a broken role shows its bug). */
  losses: 'none' | 'some';
  /** The named cause a broken role must fail by. */
  failure?: LedgerFailure;
  /**
   * Fewest entries in flight when the signal was sent: fewer, and the run could not tell.
   * @minimum 0
   * @integer
   */
  minOutAtSignal: number;
  /**
   * signal-during-request: the bound derived from the baseline must stay below this (the handler's own work, ms), or the run could not tell a stall from a slow machine.
   * @minimum 0
   */
  maxBoundMs?: number;
}

/** The named cause of a settled run. */
export function ledgerFailure(ledger: Pick<LedgerRecord, 'entries' | 'ending'>): LedgerFailure {
  const { ending, entries } = ledger;
  if (ending.how === 'killed-after-grace') return 'hung-until-sigkill';
  if (ending.how === 'stopped') return entries.lost > 0 ? 'over-latency-bound' : 'none';
  if (ending.signal !== null) return 'killed-by-signal';
  if (ending.exitCode !== 0) return 'exit-nonzero';
  return entries.lost > 0 ? 'exit-0-but-lost' : 'none';
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** The named cause in words, with its figures. */
export function failureSentence(ledger: Pick<LedgerRecord, 'entries' | 'ending' | 'unit' | 'latency'>): string {
  const { entries, ending, unit, latency } = ledger;
  const lost = `${plural(entries.lost, unit)} lost`;
  switch (ledgerFailure(ledger)) {
    case 'hung-until-sigkill':
      return `hung until SIGKILL after ${ending.killMs ?? '?'} ms (${plural(entries.handedOutAfterSignal, unit)} taken after the signal), ${lost}`;
    case 'killed-by-signal':
      return `killed by ${ending.signal ?? 'a signal'} (its default action), ${lost}`;
    case 'exit-nonzero':
      return `exit ${ending.exitCode ?? '?'}, ${lost}`;
    case 'over-latency-bound':
      return `${plural(entries.lost, unit)} in flight at a signal answered over the bound of ${latency?.boundMs ?? '?'} ms: ${latency?.stalledSignals ?? '?'} of ${plural(latency?.signals ?? 0, 'signal')} stalled them (the slowest ${latency?.maxMs ?? '?'} ms)`;
    case 'exit-0-but-lost':
      return `exit 0 and still ${lost}`;
    case 'none':
      if (ending.how === 'stopped') return `no signal of ${latency?.signals ?? '?'} stalled the ${unit}s in flight past the bound of ${latency?.boundMs ?? '?'} ms (the slowest answer ${latency?.maxMs ?? '?'} ms)`;
      return `nothing lost, exit 0${ending.exitMs === undefined ? '' : ` ${ending.exitMs} ms after the signal`}`;
  }
}

/** What the ledger judge reads of a run. */
export interface LedgerJudged {
  /** The run's ledger (absent when it ended before any entry was handed out). */
  ledger?: LedgerRecord;
  /** How the run ended: named when no entry was handed out. */
  end: Pick<MeasuredRun['end'], 'detail'>;
}

/**
 * Whether a latency run could tell (signal-during-request), for either role:
 * a stall at half the signals or more was seen, whatever the bound; a stall at
 * fewer could be the machine's own; none seen under a bound at or above the
 * handler's work (`maxBoundMs`) says nothing.
 */
function latencyChecks(latency: LatencyRecord, maxBoundMs: number): Check[] {
  const { stalledSignals, signals, quietOverBound, quietInstants, boundMs, quietMs } = latency;
  const shown = stallShown(stalledSignals, signals);
  if (shown === 'stall') return [];
  if (shown === 'unclear') {
    return [{ id: 'ledger:stalls', ok: false, text: `${stalledSignals} of ${plural(signals, 'signal')} stalled the requests in flight: fewer than half, which this machine's own stalls could do (${quietOverBound} of ${quietInstants} quiet instants read over the bound too)` }];
  }
  const tells = boundMs !== undefined && boundMs < maxBoundMs;
  const rule = `quiet instants' median ${quietMs ?? '?'} ms + ${boundMs === undefined || quietMs === undefined ? '?' : Math.round(boundMs - quietMs)} ms`;
  return [
    {
      id: 'ledger:bound',
      ok: tells,
      text: tells
        ? `latency bound ${boundMs} ms (${rule}) is below the handler's ${maxBoundMs} ms of work: a stall would have shown`
        : boundMs === undefined
          ? 'no quiet instant had a request in flight, so there is no bound: nothing could be told'
          : `latency bound ${boundMs} ms (${rule}) is not below the handler's ${maxBoundMs} ms of work: this machine is too slow to tell a stall`,
    },
  ];
}

/** The checks of a settled ledger against what the role must show. */
function ledgerChecks(ledger: LedgerRecord, rules: LedgerExpectation): Check[] {
  const { entries, ending, unit } = ledger;
  const failure = ledgerFailure(ledger);
  const checks: Check[] = [];
  const ended = ending.how === 'exited' || ending.how === 'killed-after-grace' || ending.how === 'stopped';
  checks.push({ id: 'ended', ok: ended, text: ended ? 'the signal was sent and the process ended' : `the run ended ${ending.how === 'aborted' ? 'by Ctrl-C' : ending.how === 'never-ready' ? 'before the process was ready' : 'before the signal was sent'}, so nothing was shown` });
  const caught = entries.outAtSignal >= rules.minOutAtSignal;
  checks.push({
    id: 'ledger:in-flight',
    ok: caught,
    text: caught ? `${plural(entries.outAtSignal, unit)} in flight at the signal` : `${plural(entries.outAtSignal, unit)} in flight at the signal (at least ${rules.minOutAtSignal} needed to show anything)`,
  });
  if (rules.maxBoundMs !== undefined && ledger.latency) checks.push(...latencyChecks(ledger.latency, rules.maxBoundMs));
  if (rules.losses === 'none') {
    checks.push({ id: 'ledger:losses', ok: entries.lost === 0, text: entries.lost === 0 ? `every ${unit} ${ledger.kept} (${entries.acknowledged} of ${entries.handedOut})` : `${plural(entries.lost, unit)} lost: ${entries.causes[0]?.cause ?? ''}` });
    checks.push({ id: 'ledger:exit', ok: failure === 'none', text: failure === 'none' && ending.how === 'stopped' ? failureSentence(ledger) : failure === 'none' ? `exit 0 by itself${ending.exitMs === undefined ? '' : ` ${ending.exitMs} ms after the signal`}` : failureSentence(ledger) });
  } else {
    checks.push({ id: 'ledger:losses', ok: entries.lost > 0, text: entries.lost > 0 ? `${plural(entries.lost, unit)} lost: ${entries.causes[0]?.cause ?? ''}` : `no ${unit} lost (every one ${ledger.kept})` });
    const want = rules.failure;
    const named = want === undefined || failure === want;
    checks.push({ id: 'ledger:cause', ok: named, text: named ? `${failure}: ${failureSentence(ledger)}` : `expected ${want}, but ${failure}: ${failureSentence(ledger)}` });
  }
  return checks;
}

/** A run that could not tell (no signal, nothing in flight) is inconclusive when the expectation allows it; a loss always fails. */
export function judgeLedger(run: LedgerJudged, expectation: Expectation): Verdict {
  const rules = expectation.ledger ?? { losses: 'none', minOutAtSignal: 1 };
  const checks = run.ledger ? ledgerChecks(run.ledger, rules) : [{ id: 'ended', ok: false, text: `run ended before any entry was handed out: ${run.end.detail}` }];
  const pass = checks.every((c) => c.ok);
  const couldNotTell = checks.some((c) => !c.ok && (c.id === 'ended' || c.id === 'ledger:in-flight')) && (run.ledger?.entries.lost ?? 0) === 0;
  // A bound too high, or stalls at too few signals, say nothing either way; a request the correct role lost (failed, stalled) is a finding.
  const foundLoss = rules.losses === 'none' && (run.ledger?.entries.lost ?? 0) > 0;
  const boundTooHigh = !foundLoss && checks.some((c) => !c.ok && (c.id === 'ledger:bound' || c.id === 'ledger:stalls'));
  return {
    pass,
    ...(expectation.earlyIsInconclusive && (couldNotTell || boundTooHigh) && !pass ? { inconclusive: true } : {}),
    checks: [...checks.filter((c) => !c.ok), ...checks.filter((c) => c.ok)],
    expectation,
  };
}

/** A ledger run that passed, in a compare's sentence. */
export function ledgerRunSummary(run: RunDocument): string {
  return run.ledger ? `${failureSentence(run.ledger)}; ${run.ledger.entries.acknowledged} of ${plural(run.ledger.entries.handedOut, run.ledger.unit)} ${run.ledger.kept}` : '';
}
