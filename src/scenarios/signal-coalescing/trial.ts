/**
 * One signal-coalescing trial, deterministic by construction: repro holds
 * the child stopped (SIGSTOP: every signal but SIGKILL and SIGCONT then stays
 * pending, exactly as when it is blocked), sends the burst, reads the pending
 * state from /proc/PID/status, lets the child go (SIGCONT), and asks it
 * (SIGUSR2) what its handlers counted. A standard signal is pending once
 * whatever the burst; a real-time one is queued once per kill().
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import type { TrialContext, TrialExit, TrialOutcome, TrialProcedure } from '../../kinds/trials/procedure.js';
import { hasSignal, statusMask } from '../../proc/parse.js';

/** Signals per burst. */
export const BURST_SIGNALS = 1000;

/** SIGRTMIN+1 as glibc, CPython and the kernel number it here (glibc keeps 32 and 33 for itself). */
export const SIGRTMIN_1 = 35;

/** Roles whose burst is SIGRTMIN+1; the others send SIGHUP. */
const RT_ROLES = new Set(['rt-queued', 'rt-overflow', 'python-rt', 'node-rt']);

/** The work items a correct child counts: one file each, written before the burst. */
function fillSpool(dir: string, items: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < items; i++) writeFileSync(join(dir, `item-${i}`), '');
}

async function stopped(ctx: TrialContext): Promise<boolean> {
  await ctx.burst(constants.signals.SIGSTOP, 1);
  for (let i = 0; i < 200; i++) {
    if (ctx.view.stat(ctx.pid)?.state === 'T') return true;
    await ctx.sleep(10);
  }
  return false;
}

/** The named outcome of what the child counted of `sent` signals number `signo` (and of `sent` spooled items when it had them). */
export function classify(role: string, signo: number, sent: number, counted: { hup: number; rt: number; seen: number }): { outcome: string; detail: string } {
  const rt = signo === SIGRTMIN_1;
  const handled = rt ? counted.rt : counted.hup;
  const name = rt ? 'SIGRTMIN+1' : 'SIGHUP';
  if (role === 'correct') return counted.seen === sent ? { outcome: 'all-seen', detail: `${counted.seen} of ${sent} work items seen after ${handled} ${name} handler run(s): the signal said "go look"` } : { outcome: 'missed', detail: `${counted.seen} of ${sent} work items seen` };
  if (handled === sent) return { outcome: 'queued', detail: `${sent} of ${sent} ${name} handled: real-time signals queue` };
  // CPython runs its handler once per flag, however many were queued; a C handler runs once per signal queued.
  if (rt && role === 'python-rt' && handled === 1) return { outcome: 'rt-collapsed', detail: `1 of ${sent} ${name} handled: the kernel queued them, the runtime ran its handler once` };
  // RLIMIT_SIGPENDING counts every signal pending for the user, so how many fit varies with what else is pending (1 when another child holds 1,000).
  if (rt && handled >= 1 && handled < sent) return { outcome: 'dropped-silently', detail: `${handled} of ${sent} ${name} handled, though kill() succeeded ${sent} times: beyond RLIMIT_SIGPENDING they were dropped` };
  if (handled === 1) return { outcome: 'coalesced', detail: `1 of ${sent} ${name} handled: a standard signal is pending once, whatever the burst` };
  return { outcome: 'unknown', detail: `${handled} of ${sent} ${name} handled, which no rule here explains` };
}

/**
 * A child that ended once the burst was let through. Node reports a death by a
 * real-time signal as exit code 0 and no signal (it has no name for it), so
 * what /proc said while the child was held decides: no handler for the signal.
 */
function deathOutcome(died: TrialExit, handler: number, counts: Record<string, number>): TrialOutcome {
  if (died.signal) return { outcome: 'killed', counts, detail: `the child was killed by ${died.signal} once the burst was let through` };
  if (handler === 0) return { outcome: 'killed', counts, detail: `the child ended once the burst was let through, with no handler for the signal (neither in SigCgt nor SigIgn while held): its default action (the exit status said code ${died.exitCode}, no signal)` };
  return { outcome: 'unknown', counts, detail: `the child exited with code ${died.exitCode} with a handler installed` };
}

/** Where a child that does not answer is: its state, where its threads wait, its pending and blocked signals. */
function heldState(ctx: TrialContext): string {
  const status = ctx.view.status(ctx.pid) ?? '';
  const masks = ['SigPnd', 'ShdPnd', 'SigBlk'].map((f) => `${f} ${statusMask(status, f).toString(16)}`).join(', ');
  const waits = ctx.view.threads(ctx.pid).map((t) => `${t.tid} ${t.state} ${String(t.syscall)}`).join('; ');
  return `threads ${waits || 'none'}; ${masks}`;
}

async function run(ctx: TrialContext, role: string): Promise<TrialOutcome> {
  const signo = RT_ROLES.has(role) ? SIGRTMIN_1 : constants.signals.SIGHUP;
  if (role === 'correct') {
    const spool = await ctx.event('spool', 15_000);
    if (typeof spool?.dir !== 'string') return { outcome: 'unknown', counts: {}, detail: 'the correct child did not name its spool directory within 15 s' };
    fillSpool(spool.dir, BURST_SIGNALS);
  }
  if (!(await stopped(ctx))) return { outcome: 'unknown', counts: {}, detail: 'the child did not stop on SIGSTOP within 2 s' };
  const sent = await ctx.burst(signo, BURST_SIGNALS);
  const status = ctx.view.status(ctx.pid) ?? '';
  const pending = hasSignal(statusMask(status, 'ShdPnd'), signo) ? 1 : 0;
  // Read while it is held: a signal neither caught nor ignored takes its default action (terminate) once let through.
  const handler = hasSignal(statusMask(status, 'SigCgt'), signo) || hasSignal(statusMask(status, 'SigIgn'), signo) ? 1 : 0;
  await ctx.burst(constants.signals.SIGCONT, 1);
  await ctx.sleep(200);
  const before = { sent, pending, handler };
  const died = ctx.exit();
  if (died) return deathOutcome(died, handler, before);
  await ctx.burst(constants.signals.SIGUSR2, 1);
  const report = await ctx.event('counted', 15_000);
  const after = ctx.exit();
  if (!report) return after ? deathOutcome(after, handler, before) : { outcome: 'unknown', counts: before, detail: `the child did not report its counts within 15 s (${heldState(ctx)})` };
  const counted = { hup: Number(report.hup), rt: Number(report.rt), seen: Number(report.seen) };
  return { ...classify(role, signo, sent, counted), counts: { ...before, ...counted } };
}

export const coalescingTrial: TrialProcedure = {
  procedure: `repro stops the child (SIGSTOP), sends ${BURST_SIGNALS} signals (SIGHUP, or SIGRTMIN+1 for the real-time roles), reads the pending state, lets it go (SIGCONT) and asks what its handlers counted`,
  outcomes: {
    coalesced: 'a standard signal sent N times while pending was handled once: counting signals as events loses N − 1',
    'all-seen': 'the handler said "go look" and every work item was found',
    queued: 'every real-time signal was handled: they queue',
    'rt-collapsed': 'the kernel queued every real-time signal, the runtime ran its handler once (CPython)',
    'dropped-silently': 'kill() succeeded for every real-time signal, those beyond RLIMIT_SIGPENDING were dropped',
    killed: 'the child died of the signal: it has no handler for it (Node has no real-time signals)',
    missed: 'work items were not seen',
    unknown: 'the child did not stop, answer, or counted what no rule explains',
  },
  trialsDefault: 5,
  run: (ctx, role) => run(ctx, role),
};
