/**
 * One signal-safety trial: storms of SIGUSR1 on a fresh child (10,000 as
 * fast as kill() goes), then what came of each, read from outside first: two
 * readings of every thread DEADLOCK_FROZEN_MS apart (the deadlock rule of
 * src/kinds/trials/deadlock.ts), the child's own failed check (corruption),
 * its death by a signal (crash), and else its answer to SIGUSR2: it survived
 * once the kernel delivered MIN_DELIVERED signals to it. Kills to a child
 * that is not running merge into one pending signal: on a loaded machine a
 * storm can reach the handler 3 times, not 1,000, and a deadlock that needs
 * one delivery inside glibc's lock goes unseen (a ctypes-localtime trial
 * read as survived once in 40 under two CPU hogs). So storms go on, for up
 * to STORMS_BUDGET_MS, until enough were delivered.
 */
import { constants } from 'node:os';
import { DEADLOCK_FROZEN_MS, handlerDeadlock, type TaskReading } from '../../kinds/trials/deadlock.js';
import type { TrialContext, TrialOutcome, TrialProcedure } from '../../kinds/trials/procedure.js';
import { statusMask } from '../../proc/parse.js';

/** Signals per storm. */
export const STORM_SIGNALS = 10_000;
/** Deliveries (the handler's C-level runs, as the child counts them) before a child that runs on is said to survive. */
export const MIN_DELIVERED = 2_000;
/** How long a trial goes on storming to reach MIN_DELIVERED (a storm and its answer take 50-300 ms; under two CPU hogs a Python child took 150-800 deliveries per storm). */
export const STORMS_BUDGET_MS = 15_000;
/** How long a child that runs on has to answer after a storm before its threads are read for a deadlock. */
const QUICK_ANSWER_MS = 250;

/** Every thread of the child now, through the process view. */
export function taskReadings(ctx: Pick<TrialContext, 'view' | 'pid'>): TaskReading[] {
  return ctx.view.threads(ctx.pid).map((t) => {
    const status = ctx.view.status(ctx.pid, t.tid) ?? '';
    return { tid: t.tid, syscall: t.syscall, sigBlk: statusMask(status, 'SigBlk'), shdPnd: statusMask(status, 'ShdPnd'), cpuTicks: t.cpuTicks };
  });
}

/** The children's exit code after their own check failed (they print `corrupt` first). */
const CORRUPT_EXIT = 3;

/**
 * A child that exited with its corrupt code: its `corrupt` line may still be on
 * the way (under load the exit was seen first in 2 of 20 compares); waited for
 * half a second, then the exit code alone tells it (the child's own check, as documented).
 */
async function reportedLate(ctx: TrialContext, sent: number): Promise<TrialOutcome> {
  for (let waitedMs = 0; waitedMs < 500; waitedMs += 25) {
    const corrupt = await ctx.event('corrupt', 0);
    if (corrupt) return { outcome: 'corruption', counts: { sent, check: Number(corrupt.check) }, detail: `the main loop's own check failed at check ${Number(corrupt.check)}: the handler's call overwrote its result` };
    await ctx.sleep(25);
  }
  return { outcome: 'corruption', counts: { sent }, detail: `the child exited with code ${CORRUPT_EXIT}, its exit after its own check failed (its report line was not read): the handler's call overwrote the main loop's result` };
}

/** CLOCK_MONOTONIC in µs, the clock of the children's `at` (libuv's hrtime reads it on Linux). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * What the child itself said or how it ended: corruption, a crash, a report
 * that it runs made after `sinceUs` (one made before answers an earlier
 * question: under load a second SIGUSR2 can get a second report); undefined while none of these.
 */
async function said(ctx: TrialContext, sent: number, sinceUs: number): Promise<TrialOutcome | undefined> {
  const corrupt = await ctx.event('corrupt', 0);
  if (corrupt) return { outcome: 'corruption', counts: { sent, check: Number(corrupt.check) }, detail: `the main loop's own check failed at check ${Number(corrupt.check)}: the handler's call overwrote its result` };
  const died = ctx.exit();
  if (died?.signal) return { outcome: 'crash', counts: { sent }, detail: `the child was killed by ${died.signal} during the storm` };
  if (died?.exitCode === CORRUPT_EXIT) return reportedLate(ctx, sent);
  if (died) return { outcome: 'unknown', counts: { sent }, detail: `the child exited with code ${died.exitCode} without a report` };
  for (let alive = await ctx.event('alive', 0); alive; alive = await ctx.event('alive', 0)) {
    if (typeof alive.at === 'number' && alive.at < sinceUs) continue;
    const delivered = Number(alive.delivered);
    if (!Number.isFinite(delivered)) return { outcome: 'unknown', counts: { sent }, detail: `the child's report does not say how many signals reached its handler ("delivered"), so its survival cannot be told from a storm that never reached it` };
    const counts = { sent, delivered, checks: Number(alive.checks), handled: Number(alive.handled) };
    return { outcome: 'survived', counts, detail: `the main loop still runs after ${sent} signals (${delivered} delivered): ${counts.checks} checks passed, ${counts.handled} handler runs` };
  }
  return undefined;
}

/** Two readings of every thread DEADLOCK_FROZEN_MS (and a little) apart, through the deadlock rule. */
async function deadlocked(ctx: TrialContext, signo: number, sent: number): Promise<TrialOutcome | undefined> {
  const first = taskReadings(ctx);
  const t0 = performance.now();
  await ctx.sleep(DEADLOCK_FROZEN_MS + 50);
  const stuck = handlerDeadlock(first, taskReadings(ctx), Math.round(performance.now() - t0), signo);
  if (!stuck) return undefined;
  return { outcome: 'deadlock', counts: { sent, tid: stuck.tid, cpuFrozenMs: stuck.frozenMs }, detail: `thread ${stuck.tid} waits in futex inside its SIGUSR1 handler (SIGUSR1 blocked and pending), no CPU for ${stuck.frozenMs} ms` };
}

async function run(ctx: TrialContext): Promise<TrialOutcome> {
  const signo = constants.signals.SIGUSR1;
  let sent = 0;
  const until = performance.now() + STORMS_BUDGET_MS;
  for (let storm = 1; ; storm++) {
    sent += await ctx.burst(signo, STORM_SIGNALS);
    const stormEndUs = monotonicUs();
    // A child that answers at once runs on (its main loop reported after the storm): no deadlock to read, only its counts.
    const answer = (await asked(ctx, sent, stormEndUs, QUICK_ANSWER_MS)) ?? (await afterStorm(ctx, signo, sent, stormEndUs));
    const delivered = answer.counts.delivered ?? 0;
    if (answer.outcome !== 'survived' || delivered >= MIN_DELIVERED) return answer;
    if (performance.now() >= until) {
      return { outcome: 'unknown', counts: answer.counts, detail: `the main loop still runs, but only ${delivered} of ${sent} signals reached its handler in ${storm} storms over ${STORMS_BUDGET_MS / 1000} s (kills to a child that is not running merge into one): too few to say it survives` };
    }
  }
}

/** Asks the child (SIGUSR2) whether it runs: what it said within `withinMs` (its report, its failed check, its end), or undefined. */
async function asked(ctx: TrialContext, sent: number, sinceUs: number, withinMs: number): Promise<TrialOutcome | undefined> {
  await ctx.burst(constants.signals.SIGUSR2, 1);
  const deadline = performance.now() + withinMs;
  for (;;) {
    const answer = await said(ctx, sent, sinceUs);
    if (answer || performance.now() >= deadline) return answer;
    await ctx.sleep(25);
  }
}

/** What one storm came to: corruption, a crash, a deadlock, the child's report that it runs (survived, with its counts), or unknown. */
async function afterStorm(ctx: TrialContext, signo: number, sent: number, sinceUs: number): Promise<TrialOutcome> {
  const stuck = await deadlocked(ctx, signo, sent);
  // What the child said first: a corruption reported during the window is its answer, not the deadlock a dying child may read as.
  const early = await said(ctx, sent, sinceUs);
  if (early) return early;
  if (stuck) return stuck;
  // Asked again whether it still runs; on a loaded machine its answer (or its failed check) may take a while.
  const answer = await asked(ctx, sent, sinceUs, 3000);
  if (answer) return answer;
  // A handler that deadlocked on the storm's last signal has nothing pending: one more shows it blocked behind the handler.
  await ctx.burst(signo, 1);
  return (await deadlocked(ctx, signo, sent)) ?? { outcome: 'unknown', counts: { sent }, detail: 'the child neither failed, died, read as deadlocked, nor answered within 3 s' };
}

export const safetyTrial: TrialProcedure = {
  procedure: `repro sends ${STORM_SIGNALS} SIGUSR1 as fast as kill() goes and asks the child (SIGUSR2) whether its main loop still runs and how many signals reached its handler; without an answer within ${QUICK_ANSWER_MS} ms, reads every thread twice ${DEADLOCK_FROZEN_MS} ms apart, then the child's own check or its answer; another storm while fewer than ${MIN_DELIVERED} signals reached the handler (for up to ${STORMS_BUDGET_MS / 1000} s)`,
  outcomes: {
    corruption: "the main loop's own check of a result failed: the handler's non-reentrant call overwrote it",
    deadlock: 'a thread waits in futex inside the handler (the signal blocked and pending for it), its CPU time frozen',
    crash: 'the child died of a signal during the storm',
    survived: `the main loop still ran and every check passed, with at least ${MIN_DELIVERED} signals delivered to the handler`,
    unknown: `none of these could be read, or fewer than ${MIN_DELIVERED} signals reached the handler in ${STORMS_BUDGET_MS / 1000} s of storms`,
  },
  trialsDefault: 5,
  run: (ctx) => run(ctx),
};
