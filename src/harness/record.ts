/**
 * The run recorder: what every driver shares. It takes samples (fds by kind,
 * RSS, the scenario's metrics), keeps the events, remembers how the run
 * ended, and assembles the measured run. Drivers decide when to signal and
 * when to sample; the recorder decides what a sample and a run are.
 */
import { arch, release } from 'node:os';
import { ProbeError } from '../fdprobe/errors.js';
import { countKinds } from '../fdprobe/kinds.js';
import { parseRssKb } from '../proc/proc-text.js';
import type { FdEntry, FdProbe } from '../fdprobe/probe.js';
import { measure } from '../model/measure.js';
import type { ChildExit, EndReason, KeptOutput, MeasuredRun, Measured, MetricDescriptor, RoleKind, RunDocument, Sample } from '../model/run-document.js';
import { SCHEMA_VERSION } from '../model/run-document.js';
import { SampleBuffer } from '../model/sample-buffer.js';
import { round } from '../model/stats.js';
import type { ProtocolEvent } from '../protocol/events.js';

/** How a metric is read at each sample: from the acknowledging event, or from the process. */
export interface MetricReader extends MetricDescriptor {
  fromEvent?: string;
  fromProcess?: (pid: number, fds: readonly FdEntry[], status: string | undefined) => number | undefined;
}

/** Which run it is: what every driver's plan starts with (the document's own fields). */
export interface RunIdentity {
  scenario: string;
  role: string;
  roleKind: RoleKind;
  runtime: string;
  options: Record<string, string | number>;
  /** The signal the scenario is about (the document's `signal`). */
  signal: NodeJS.Signals;
  /** The child's argv. */
  command: string[];
}

/** What the run is, for the document: everything a driver knows before it starts. */
export interface RecordPlan extends RunIdentity {
  reloadsPlanned: number;
  metrics: readonly MetricReader[];
  /** fds one reload holds at its peak above the fds when ready, where a reload opens more than it leaves (see Scenario.peakFdsPerReload). */
  peakFdsPerReload?: number;
  /** Most samples kept in the document (long runs are thinned uniformly). */
  maxSamples?: number;
}

/** The run ends here: a reason and a sentence. Drivers throw it from wherever they are. */
export class RunEnded extends Error {
  constructor(
    readonly reason: EndReason,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'RunEnded';
  }
}

const NO_OUTPUT: KeptOutput = { text: '', truncated: false, bytes: 0 };

/** What a driver hands over at the end, beyond the samples and events. */
export interface RunFinish {
  pid: number | null;
  child: ChildExit | null;
  /** RLIMIT_NOFILE the child ran under; null when never read. */
  ulimit: number | null;
  signalHandling?: Measured['signalHandling'];
  stdout?: KeptOutput;
  stderr?: KeptOutput;
  /** Document fields only some drivers know (watch: attached, signalDisposition, emfileObserved; a command read back from /proc). */
  extra?: Partial<Pick<RunDocument, 'attached' | 'signalDisposition' | 'emfileObserved' | 'command' | 'tree' | 'survivors' | 'leftRunning' | 'ulimitGiven'>>;
}

export class RunRecorder {
  readonly #samples: SampleBuffer;
  readonly #events: ProtocolEvent[] = [];
  readonly #startedAt = new Date();
  readonly #t0 = performance.now();
  #ending: RunEnded = new RunEnded('reloads-done', '');
  #fdsAboveLimitAtStart = 0;

  constructor(
    readonly plan: RecordPlan,
    private readonly probe: FdProbe,
    private readonly onSample?: (sample: Sample) => void,
  ) {
    this.#samples = new SampleBuffer(plan.maxSamples);
    this.#ending = new RunEnded('reloads-done', `${plan.reloadsPlanned} reloads done`);
  }

  /** Milliseconds since the run started. */
  elapsedMs(): number {
    return performance.now() - this.#t0;
  }

  /** The latest sample. */
  last(): Sample | undefined {
    return this.#samples.at(-1);
  }

  /** Keeps an event for the document (bounded: a child that floods events costs nothing more). */
  keep(event: ProtocolEvent): void {
    if (this.#events.length < 1000) this.#events.push(event);
  }

  /**
   * Probes `pid` and records a sample for `reload`. A probe failure ends the
   * run: `child-exited` when the process is gone, `probe-failed` otherwise.
   * `limit` is the fd limit in force, to count inherited fds above it at the baseline.
   */
  async sample(pid: number, reload: number, at: { limit: number | null; event?: Record<string, unknown>; roundTripMs?: number; settleMs?: number }): Promise<FdEntry[]> {
    let fds: FdEntry[];
    let rssKb: number | undefined;
    // /proc/PID/status once per sample (procfs): its RSS and the metrics read from it (threads) are one read, not one each.
    let status: string | undefined;
    try {
      fds = await this.probe.list(pid);
      status = this.probe.status?.(pid);
      rssKb = status === undefined ? await this.probe.rssKb(pid) : parseRssKb(status);
    } catch (error) {
      if (error instanceof ProbeError) throw new RunEnded(error.failure === 'gone' ? 'child-exited' : 'probe-failed', `probe after reload ${reload}: ${error.message}`);
      throw error;
    }
    if (reload === 0 && at.limit !== null) this.#fdsAboveLimitAtStart = fds.filter((f) => f.fd >= (at.limit as number)).length;
    const metrics = this.#readMetrics(pid, fds, at.event, status);
    const sample: Sample = {
      reload,
      elapsedMs: round(this.elapsedMs(), 2),
      fds: fds.length,
      fdsByKind: countKinds(fds.map((f) => f.kind)),
      ...(rssKb === undefined ? {} : { rssKb }),
      ...(at.roundTripMs === undefined ? {} : { roundTripMs: at.roundTripMs }),
      ...(at.settleMs === undefined ? {} : { settleMs: round(at.settleMs, 2) }),
      ...(metrics ? { metrics } : {}),
    };
    this.#samples.add(sample);
    this.onSample?.(sample);
    return fds;
  }

  /**
   * Records a sample of a whole process tree (watch), already listed by the
   * driver: `fds` is the tree's total, `processes` the bounded per-process
   * view. `aboveLimit`: at the baseline, fds numbered at or above the limit.
   */
  treeSample(
    reload: number,
    taken: { fds: number; fdsByKind: Sample['fdsByKind']; processes: NonNullable<Sample['processes']>; processCount: number; rssKb?: number; aboveLimit?: number },
    at: { settleMs?: number; deliveredMs?: number },
  ): Sample {
    if (reload === 0 && taken.aboveLimit !== undefined) this.#fdsAboveLimitAtStart = taken.aboveLimit;
    const sample: Sample = {
      reload,
      elapsedMs: round(this.elapsedMs(), 2),
      fds: taken.fds,
      fdsByKind: taken.fdsByKind,
      ...(taken.rssKb === undefined ? {} : { rssKb: taken.rssKb }),
      ...(at.settleMs === undefined ? {} : { settleMs: round(at.settleMs, 2) }),
      ...(at.deliveredMs === undefined ? {} : { deliveredMs: round(at.deliveredMs, 2) }),
      processes: taken.processes,
      processCount: taken.processCount,
    };
    this.#samples.add(sample);
    this.onSample?.(sample);
    return sample;
  }

  #readMetrics(pid: number, fds: readonly FdEntry[], event: Record<string, unknown> | undefined, status: string | undefined): Record<string, number> | undefined {
    if (this.plan.metrics.length === 0) return undefined;
    const values: Record<string, number> = {};
    const previous = this.#samples.at(-1)?.metrics;
    for (const metric of this.plan.metrics) {
      let value: number | undefined;
      if (metric.fromEvent) {
        const v = event?.[metric.fromEvent];
        // An acknowledgement without the field (a register failure) keeps the last value: nothing changed that the child told.
        value = typeof v === 'number' && Number.isFinite(v) ? v : previous?.[metric.id];
      } else if (metric.fromProcess) {
        value = metric.fromProcess(pid, fds, status);
      }
      if (value !== undefined) values[metric.id] = value;
    }
    return Object.keys(values).length ? values : undefined;
  }

  /** How the run ended; the first call after the default wins over later ones only when `force`d. */
  end(ending: RunEnded): void {
    this.#ending = ending;
  }

  get ending(): RunEnded {
    return this.#ending;
  }

  /** The measured run: the plan, the platform, the samples, the events, the ending, the child's output, and the measurements. */
  finish(finish: RunFinish): MeasuredRun {
    const { plan } = this;
    const recorded = {
      schemaVersion: SCHEMA_VERSION,
      kind: 'run' as const,
      scenario: plan.scenario,
      role: plan.role,
      roleKind: plan.roleKind,
      runtime: plan.runtime,
      options: plan.options,
      signal: plan.signal,
      command: plan.command,
      ulimit: finish.ulimit,
      reloadsPlanned: plan.reloadsPlanned,
      fdsAboveLimitAtStart: this.#fdsAboveLimitAtStart,
      ...(plan.peakFdsPerReload === undefined ? {} : { peakFdsPerReload: plan.peakFdsPerReload }),
      ...finish.extra,
      metrics: plan.metrics.map(({ id, label, unit, description, perReload }) => ({ id, label, unit, description, ...(perReload ? { perReload } : {}) })),
      platform: { os: process.platform, arch: arch(), release: release(), node: process.version, probe: this.probe.backend },
      startedAt: this.#startedAt.toISOString(),
      pid: finish.pid !== null && finish.pid > 0 ? finish.pid : null,
      samples: this.#samples.toArray(),
      sampleStride: this.#samples.stride,
      harnessPeakRssKb: process.resourceUsage().maxRSS,
      events: this.#events,
      end: { reason: this.#ending.reason, detail: this.#ending.detail, child: finish.child, wallMs: round(this.elapsedMs(), 1) },
      stderr: finish.stderr ?? NO_OUTPUT,
      stdout: finish.stdout ?? NO_OUTPUT,
    };
    const measured = measure({ ...recorded, signalHandling: finish.signalHandling ?? 'not-checked' });
    return { ...recorded, measured };
  }
}
