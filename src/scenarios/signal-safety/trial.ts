/**
 * One signal-safety trial: a storm of SIGUSR1 on a fresh child (10,000 as
 * fast as kill() goes), then what came of it, read from outside first: two
 * readings of every thread DEADLOCK_FROZEN_MS apart (the deadlock rule of
 * src/kinds/trials/deadlock.ts), the child's own failed check (corruption),
 * its death by a signal (crash), and else its answer to SIGUSR2 (survived).
 */
import { constants } from 'node:os';
import { DEADLOCK_FROZEN_MS, handlerDeadlock, type TaskReading } from '../../kinds/trials/deadlock.js';
import type { TrialContext, TrialOutcome, TrialProcedure } from '../../kinds/trials/procedure.js';
import { statusMask } from '../../proc/parse.js';

/** Signals per storm. */
export const STORM_SIGNALS = 10_000;

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

/** What the child itself said or how it ended: corruption, a crash, a report that it runs; undefined while none of these. */
async function said(ctx: TrialContext, sent: number): Promise<TrialOutcome | undefined> {
  const corrupt = await ctx.event('corrupt', 0);
  if (corrupt) return { outcome: 'corruption', counts: { sent, check: Number(corrupt.check) }, detail: `the main loop's own check failed at check ${Number(corrupt.check)}: the handler's call overwrote its result` };
  const died = ctx.exit();
  if (died?.signal) return { outcome: 'crash', counts: { sent }, detail: `the child was killed by ${died.signal} during the storm` };
  if (died?.exitCode === CORRUPT_EXIT) return reportedLate(ctx, sent);
  if (died) return { outcome: 'unknown', counts: { sent }, detail: `the child exited with code ${died.exitCode} without a report` };
  const alive = await ctx.event('alive', 0);
  if (alive) return { outcome: 'survived', counts: { sent, checks: Number(alive.checks), handled: Number(alive.handled) }, detail: `the main loop still runs after ${sent} signals: ${Number(alive.checks)} checks passed, ${Number(alive.handled)} handler runs` };
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
  const sent = await ctx.burst(signo, STORM_SIGNALS);
  const stuck = await deadlocked(ctx, signo, sent);
  // What the child said first: a corruption reported during the window is its answer, not the deadlock a dying child may read as.
  const early = await said(ctx, sent);
  if (early) return early;
  if (stuck) return stuck;
  // Asked whether it still runs; on a loaded machine its answer (or its failed check) may take a while.
  await ctx.burst(constants.signals.SIGUSR2, 1);
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline) {
    const answer = await said(ctx, sent);
    if (answer) return answer;
    await ctx.sleep(25);
  }
  // A handler that deadlocked on the storm's last signal has nothing pending: one more shows it blocked behind the handler.
  await ctx.burst(signo, 1);
  return (await deadlocked(ctx, signo, sent)) ?? { outcome: 'unknown', counts: { sent }, detail: 'the child neither failed, died, read as deadlocked, nor answered within 3 s' };
}

export const safetyTrial: TrialProcedure = {
  procedure: `repro sends ${STORM_SIGNALS} SIGUSR1 as fast as kill() goes, reads every thread twice ${DEADLOCK_FROZEN_MS} ms apart, then reads the child's own check or asks it (SIGUSR2) whether its main loop still runs`,
  outcomes: {
    corruption: "the main loop's own check of a result failed: the handler's non-reentrant call overwrote it",
    deadlock: 'a thread waits in futex inside the handler (the signal blocked and pending for it), its CPU time frozen',
    crash: 'the child died of a signal during the storm',
    survived: 'the main loop still ran and every check passed',
    unknown: 'none of these could be read',
  },
  trialsDefault: 5,
  run: (ctx) => run(ctx),
};
