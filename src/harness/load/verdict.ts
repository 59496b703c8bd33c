/**
 * Judging a graceful-drain run, after it: pure functions from the ledger to
 * checks, so views and gates never parse sentences. Lives beside the ledger
 * until the run document v2 carries ledgers (then it moves to src/model/).
 */
import type { LedgerSummary, LossCause } from './ledger.js';

/** What a run of a role must show, as data. */
export interface DrainExpectation {
  /** One line: what the run should show. */
  shows: string;
  /** `none`: not one request lost (correct); `some`: at least one, each with its cause (broken). */
  losses: 'none' | 'some';
  /** Fewest requests that make the run count. */
  minRequests: number;
  /** How the server must end: `clean` (exit 0 by itself), `killed` (SIGKILL after the grace period), `any`. */
  exit: 'clean' | 'killed' | 'any';
  /** When a second signal was sent: the process must be gone within this many ms of it. */
  secondSignalWithinMs?: number;
}

export interface DrainCheck {
  /** `ended`, `requests`, `losses`, `causes`, `exit`, `second-signal`. */
  id: string;
  ok: boolean;
  text: string;
}

export interface DrainVerdict {
  pass: boolean;
  headline: string;
  checks: DrainCheck[];
}

/** The run as the verdict needs it: the ledger and how the driver ended. */
export interface DrainRun {
  ended: { reason: string; detail: string };
  ledger: LedgerSummary;
}

/** `killed after the grace period with 3 connections open`, or undefined when the server exited by itself. */
export function killedSentence(ledger: LedgerSummary): string | undefined {
  if (!ledger.exit?.killed) return undefined;
  const n = ledger.connectionsOpenAtKill;
  return `killed after the grace period with ${n} connection${n === 1 ? '' : 's'} open`;
}

/** One loss group in words: `12 × reset (lag window, server exited): ECONNRESET before any response byte`. */
export function lossSentence(cause: LossCause): string {
  const phase = { before: 'before the signal', lag: 'lag window', drain: 'drain', 'after-exit': 'after exit' }[cause.phase];
  return `${cause.count} × ${cause.outcome} (${phase}, server ${cause.server}): ${cause.cause}`;
}

/** How the server ended, in words. */
export function exitSentence(ledger: LedgerSummary): string {
  const exit = ledger.exit;
  if (!exit) return 'never signalled';
  const after = ledger.timings.exitMs === undefined ? '' : ` ${ledger.timings.exitMs} ms after the signal`;
  if (exit.killed) return `${killedSentence(ledger) as string}${after}`;
  return exit.signal ? `died of ${exit.signal}${after}` : `exited with code ${exit.code}${after}`;
}

export function judgeDrain(run: DrainRun, expect: DrainExpectation): DrainVerdict {
  const { ledger } = run;
  const checks: DrainCheck[] = [];
  checks.push({ id: 'ended', ok: run.ended.reason === 'done', text: run.ended.reason === 'done' ? `the run went through the shutdown: ${run.ended.detail}` : `the run stopped early (${run.ended.reason}): ${run.ended.detail}` });
  checks.push({ id: 'requests', ok: ledger.total >= expect.minRequests, text: `${ledger.total} requests (at least ${expect.minRequests} needed)` });
  if (expect.losses === 'none') {
    checks.push({ id: 'losses', ok: ledger.lost === 0, text: ledger.lost === 0 ? `lost 0 of ${ledger.total} requests` : `lost ${ledger.lost} of ${ledger.total} requests: ${ledger.causes.slice(0, 3).map(lossSentence).join('; ')}` });
  } else {
    checks.push({ id: 'losses', ok: ledger.lost >= 1, text: ledger.lost >= 1 ? `lost ${ledger.lost} of ${ledger.total} requests` : `lost none of ${ledger.total} requests: the shutdown bug did not show` });
    const labelled = ledger.causes.reduce((n, c) => n + (c.cause ? c.count : 0), 0);
    const ok = ledger.lost >= 1 && labelled + ledger.otherLost === ledger.lost && ledger.otherLost === 0;
    checks.push({ id: 'causes', ok, text: ok ? `every loss has its cause: ${ledger.causes.slice(0, 3).map(lossSentence).join('; ')}` : `${ledger.lost - labelled} of ${ledger.lost} losses without a cause group` });
  }
  if (expect.exit !== 'any') {
    const exit = ledger.exit;
    const ok = expect.exit === 'clean' ? exit !== undefined && !exit.killed && exit.code === 0 : exit?.killed === true;
    checks.push({ id: 'exit', ok, text: exitSentence(ledger) });
  }
  if (expect.secondSignalWithinMs !== undefined) {
    const ms = ledger.timings.secondSignalToExitMs;
    const ok = ms !== undefined && ms <= expect.secondSignalWithinMs;
    checks.push({ id: 'second-signal', ok, text: ms === undefined ? 'no second signal was sent before the exit' : `gone ${ms} ms after the second signal (at most ${expect.secondSignalWithinMs})` });
  }
  const pass = checks.every((c) => c.ok);
  const failed = checks.find((c) => !c.ok);
  return { pass, headline: pass ? `ok: ${expect.shows}` : `FAIL: ${failed?.text ?? ''}`, checks };
}

/** "in 20 of 20 runs": how many of a series of verdicts passed. */
export function seriesSentence(verdicts: readonly DrainVerdict[]): string {
  return `${verdicts.filter((v) => v.pass).length} of ${verdicts.length} runs passed`;
}
