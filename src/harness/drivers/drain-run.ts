/**
 * A load-and-signal run as a measured run document: the load-and-signal
 * driver does the work; this takes the baseline sample of the server once it
 * is up (fds by kind, RSS, its fd limit: so `measured` stays meaningful) and
 * puts the ledger, timeline, phase events and plan in the document's `drain`.
 * Used by the graceful-drain scenario and by `repro drain`.
 */
import { ProbeError } from '../../fdprobe/errors.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import type { DrainEnd, DrainPlan } from '../../model/drain.js';
import type { EndReason, MeasuredRun, RoleKind } from '../../model/run-document.js';
import type { LaunchedChild } from '../launch.js';
import { RunEnded, RunRecorder } from '../record.js';
import { type LoadAndSignalPlan, runLoadAndSignal } from './load-and-signal.js';

export interface DrainRunPlan {
  scenario: string;
  role: string;
  roleKind: RoleKind;
  runtime: string;
  options: Record<string, string | number>;
  /** The driver's plan (command, signal, load, lag, grace, seed). */
  load: LoadAndSignalPlan;
  /** repro drain: the URL the load went to. */
  url?: string;
  /** repro drain --ready-url: where readiness was asked, when not `url`. */
  readyUrl?: string;
}

export interface DrainRunHooks {
  probe: FdProbe;
  abort?: AbortSignal;
  onChild?: (child: LaunchedChild) => void;
}

const END: Record<DrainEnd, EndReason> = { done: 'shutdown-done', 'ready-timeout': 'ready-timeout', 'child-exited': 'child-exited', aborted: 'aborted', 'not-delivered': 'not-delivered' };

export async function runDrain(plan: DrainRunPlan, hooks: DrainRunHooks): Promise<MeasuredRun> {
  const { load } = plan;
  const recorder = new RunRecorder(
    { scenario: plan.scenario, role: plan.role, roleKind: plan.roleKind, runtime: plan.runtime, options: plan.options, signal: load.signal, command: load.command, reloadsPlanned: 0, metrics: [] },
    hooks.probe,
  );
  let limit: number | null = null;
  const result = await runLoadAndSignal(load, {
    abort: hooks.abort,
    onChild: hooks.onChild,
    onReady: async (pid) => {
      try {
        limit = (await hooks.probe.limits(pid)).soft;
        await recorder.sample(pid, 0, { limit });
      } catch (error) {
        // The baseline is context, not the test: a server gone or unreadable here shows in the ledger.
        if (!(error instanceof RunEnded) && !(error instanceof ProbeError)) throw error;
      }
    },
  });
  recorder.end(new RunEnded(END[result.ended.reason], result.ended.detail));
  const drainPlan: DrainPlan = {
    lagMs: load.lagMs,
    graceMs: load.graceMs,
    seed: load.seed,
    concurrency: load.load.concurrency,
    maxRequests: load.load.maxRequests,
    warmupMs: load.warmupMs,
    signalJitterMs: load.signalJitterMs,
    ...(plan.url === undefined ? {} : { url: plan.url }),
    ...(plan.readyUrl === undefined ? {} : { readyUrl: plan.readyUrl }),
    ...(load.load.method === undefined ? {} : { method: load.load.method }),
    ...(load.signalTo === undefined ? {} : { signalTo: load.signalTo }),
    ...(load.secondSignal ? { secondSignal: { signal: load.secondSignal.signal, afterMs: load.secondSignal.afterMs } } : {}),
  };
  const run = recorder.finish({ pid: result.pid, child: result.child, ulimit: limit, stdout: result.stdout, stderr: result.stderr });
  return {
    ...run,
    drain: { plan: drainPlan, port: result.port, ended: result.ended, ledger: result.ledger, timeline: result.timeline, events: result.events, generator: result.generator, ...(result.server ? { server: result.server } : {}) },
  };
}
