/**
 * One run: spawn a protocol child under a lowered ulimit, wait for `ready`,
 * then per reload send the signal, wait for the acknowledgement (a timeout,
 * never a sleep), probe, record. Stops on a register failure, on the planned
 * count, or when the child dies; always tears the child down.
 */
import { arch, release } from 'node:os';
import { ProbeError } from '../fdprobe/errors.js';
import { countKinds } from '../fdprobe/kinds.js';
import type { FdProbe } from '../fdprobe/probe.js';
import type { ChildExit, EndReason, RunDocument, Sample, Verdict } from '../model/run-document.js';
import { SCHEMA_VERSION } from '../model/run-document.js';
import { SampleBuffer } from '../model/sample-buffer.js';
import { round } from '../model/stats.js';
import { judge } from '../model/verdict.js';
import type { ChildEvent } from '../protocol/events.js';
import { WaitError } from './child-output.js';
import { launchChild, type LaunchedChild } from './launch.js';

export interface RunPlan {
  scenario: string;
  pattern: 'broken' | 'correct';
  channel: string;
  command: string[];
  signal: NodeJS.Signals;
  ulimit: number;
  reloads: number;
  /** fds per reload the broken pattern should leak. */
  fdsPerReload: number;
  maxGrowth: number;
  readyTimeoutMs: number;
  ackTimeoutMs: number;
  /** How long to wait for a reload after a register failure before calling signal handling dead. */
  deadCheckMs: number;
  graceMs: number;
  /** Most samples kept in the document (long runs are thinned uniformly). */
  maxSamples?: number;
}

export interface RunHooks {
  probe: FdProbe;
  abort?: AbortSignal;
  onSample?: (sample: Sample, plan: { pattern: string; reloads: number }) => void;
  /** Called once the child is spawned, so a caller can kill it on a second Ctrl-C. */
  onChild?: (child: LaunchedChild) => void;
}

const isAck = (seq: number) => (e: ChildEvent) => (e.event === 'reload' || e.event === 'register-failed') && e.seq === seq;

class RunEnded extends Error {
  constructor(
    readonly reason: EndReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function endFromWait(error: WaitError): RunEnded {
  if (error.reason === 'aborted') return new RunEnded('aborted', `aborted during ${error.phase}`);
  if (error.reason === 'exited') return new RunEnded('child-exited', `${error.message} during ${error.phase}`);
  return new RunEnded(error.phase === 'ready' ? 'ready-timeout' : 'ack-timeout', `${error.phase}: ${error.message}`);
}

export async function runScenario(plan: RunPlan, hooks: RunHooks): Promise<RunDocument> {
  const startedAt = new Date();
  const t0 = performance.now();
  const samples = new SampleBuffer(plan.maxSamples);
  const events: ChildEvent[] = [];
  let signalHandling: Verdict['signalHandling'] = 'not-checked';
  let reason: EndReason = 'reloads-done';
  let detail = `${plan.reloads} reloads done`;
  let fdsAboveLimitAtStart = 0;

  const child = launchChild({ command: plan.command, ulimit: plan.ulimit });
  hooks.onChild?.(child);
  child.output.onEvent(({ event }) => {
    if (event.event !== 'reload' && events.length < 1000) events.push(event);
  });

  const takeSample = async (reload: number, listeners: number | undefined, roundTripMs: number | undefined) => {
    try {
      const fds = await hooks.probe.list(child.pid);
      if (reload === 0) fdsAboveLimitAtStart = fds.filter((f) => f.fd >= plan.ulimit).length;
      const sample: Sample = {
        reload,
        elapsedMs: round(performance.now() - t0, 2),
        fds: fds.length,
        fdsByKind: countKinds(fds.map((f) => f.kind)),
        listeners,
        rssKb: await hooks.probe.rssKb(child.pid),
        roundTripMs,
      };
      samples.add(sample);
      hooks.onSample?.(sample, plan);
    } catch (error) {
      if (error instanceof ProbeError) throw new RunEnded(error.failure === 'gone' ? 'child-exited' : 'probe-failed', `probe after reload ${reload}: ${error.message}`);
      throw error;
    }
  };

  try {
    const ready = await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort);
    await takeSample(0, ready.event.event === 'ready' ? ready.event.listeners : undefined, undefined);
    for (let k = 1; k <= plan.reloads; k++) {
      if (hooks.abort?.aborted) throw new RunEnded('aborted', `aborted before reload ${k}`);
      const sentNs = process.hrtime.bigint();
      if (!child.signal(plan.signal)) throw new RunEnded('child-exited', `child gone before reload ${k}`);
      const ack = await child.output.waitFor(isAck(k), plan.ackTimeoutMs, `reload ${k}`, hooks.abort);
      const roundTripMs = round(Number(ack.atNs - sentNs) / 1e6, 4);
      const listeners = ack.event.event === 'reload' ? ack.event.listeners : undefined;
      await takeSample(k, listeners ?? samples.at(-1)?.listeners, roundTripMs);
      if (ack.event.event === 'register-failed') {
        signalHandling = await checkSignalHandling(child, plan, k + 1, hooks.abort);
        reason = 'emfile';
        detail = `${ack.event.message} at reload ${k}`;
        break;
      }
    }
  } catch (error) {
    const ended = error instanceof WaitError ? endFromWait(error) : error;
    if (!(ended instanceof RunEnded)) {
      await child.stop(plan.graceMs);
      throw error;
    }
    reason = ended.reason;
    detail = ended.detail;
  }

  const exit: ChildExit = await child.stop(plan.graceMs);
  if (reason === 'child-exited') detail += ` (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`})`;
  const document: Omit<RunDocument, 'verdict'> = {
    schemaVersion: SCHEMA_VERSION,
    kind: 'run',
    scenario: plan.scenario,
    pattern: plan.pattern,
    channel: plan.channel,
    signal: plan.signal,
    command: plan.command,
    ulimit: plan.ulimit,
    reloadsPlanned: plan.reloads,
    fdsAboveLimitAtStart,
    platform: { os: process.platform, arch: arch(), release: release(), node: process.version, probe: hooks.probe.backend },
    startedAt: startedAt.toISOString(),
    pid: child.pid > 0 ? child.pid : null,
    samples: samples.toArray(),
    sampleStride: samples.stride,
    harnessPeakRssKb: process.resourceUsage().maxRSS,
    events,
    end: { reason, detail, child: exit, wallMs: round(performance.now() - t0, 1) },
    stderr: child.output.stderr.view(),
    stdout: child.output.stdout.view(),
  };
  return { ...document, verdict: judge({ ...document, signalHandling }, { fdsPerReload: plan.fdsPerReload, maxGrowth: plan.maxGrowth }) };
}

/**
 * After a register failure: one more signal. A reload means something still
 * listens; none within the window while the child is still alive means the
 * signal was caught (the default action for SIGHUP would have killed it) and
 * nothing acted on it.
 */
async function checkSignalHandling(child: LaunchedChild, plan: RunPlan, nextSeq: number, abort: AbortSignal | undefined): Promise<Verdict['signalHandling']> {
  if (!child.signal(plan.signal)) return 'not-checked';
  try {
    await child.output.waitFor((e) => (e.event === 'reload' || e.event === 'register-failed') && e.seq >= nextSeq, plan.deadCheckMs, 'dead-listener check', abort);
    return 'alive';
  } catch (error) {
    if (error instanceof WaitError && error.reason === 'timeout' && child.isRunning()) return 'dead';
    return 'not-checked';
  }
}
