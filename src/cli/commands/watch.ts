/** `repro watch`: validate what to run or attach to, then run the watch driver. */
import { closeSync, openSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ProbeError } from '../../fdprobe/errors.js';
import { defaultProbe } from '../../fdprobe/index.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import type { LaunchedChild } from '../../harness/launch.js';
import { runSettleLoop, type SignalTo } from '../../harness/drivers/settle-loop.js';
import { groupMembers, type Refused, refusalFor, refusedReceivers, targetFacts } from '../../harness/tree/safety.js';
import { procfsView } from '../../proc/procfs-view.js';
import { AttributionSession, checkTracer } from '../../attribution/session.js';
import { judgeRun } from '../../kinds/index.js';
import { answersAlready, checkCommand, parseTarget, startWaitMs } from '../preflight.js';
import type { ReloadLoadPlan } from '../../harness/drivers/reload-load.js';
import { listenerOwner } from '../../harness/load/listener-owner.js';
import { processExists } from '../../util/process-exists.js';
import type { Expectation, RunDocument, Sample } from '../../model/run-document.js';
import { EnvironmentError, ExitCode, ReproError, UsageError } from '../../errors.js';

export interface WatchOptions {
  pid?: number;
  ulimit?: number;
  signal: NodeJS.Signals;
  reloads: number;
  settle: number;
  settleTimeout: number;
  readyAfter?: number;
  readyTimeout: number;
  maxGrowth: number;
  grace: number;
  /** Where the signal goes (default `program`). */
  signalTo?: SignalTo;
  /** Run the program under strace and attribute every survivor to the call that made it (src/attribution/). */
  attribute?: boolean;
  /** A log file the program writes, followed for EMFILE text (`--log`). */
  log?: string;
  /** Write every /proc reading of the run to this NDJSON trace (`--record-trace`, hidden). */
  recordTrace?: string;
  /** Load the program here through the reloads (`--url`, loopback http only). */
  url?: string;
  /** Readiness is asked here instead of `url` (`--ready-url`). */
  readyUrl?: string;
  /** Concurrent clients of the load (default 8). */
  concurrency?: number;
  /** GET (default; retried once after the keep-alive close race) or POST (never retried). */
  method?: 'GET' | 'POST';
  /** Most requests the reloads may lose and still pass (default 0). */
  maxLost?: number;
}

/** Concurrent clients of watch --url when --concurrency is not given: enough to keep requests in flight at every signal, little enough to leave the program's CPU to its reloads. */
export const WATCH_CONCURRENCY = 8;

export interface WatchCommandHooks {
  probe?: FdProbe;
  abort?: AbortSignal;
  hardLimit?: number | null;
  onSample?: (sample: Sample) => void;
  onChild?: (child: LaunchedChild) => void;
}

/**
 * What watch expects of any program: no more than the gate of fds per reload
 * still open at the end (survivors), no EMFILE; the growth slope is shown as
 * information; a run it did not take tells nothing.
 */
export function watchExpectation(maxGrowth: number, maxLost?: number): Expectation {
  return {
    shows: `fds surviving ≤ ${maxGrowth}/reload and no EMFILE${maxLost === undefined ? '' : `, requests lost in reloads ≤ ${maxLost}`}`,
    ...(maxLost === undefined ? {} : { reloadLoad: { maxLost } }),
    gate: 'survivors',
    fdsPerReload: 0,
    maxGrowth,
    registerFailure: 'forbidden',
    flatMetrics: [],
    growingMetrics: [],
    allReloads: false,
    earlyIsInconclusive: true,
  };
}

export async function watchCommand(command: string[], options: WatchOptions, hooks: WatchCommandHooks = {}): Promise<RunDocument> {
  checkWatchOptions(command, options, hooks);
  // Before anything runs: no strace, or no ptrace, is one line and exit 3, never a run without attribution.
  const tracer = options.attribute ? checkTracer() : undefined;
  if (options.log !== undefined) checkLogFile(options.log);
  const probe = hooks.probe ?? defaultProbe();
  if (options.pid !== undefined) await checkAttachable(options.pid, options.signal, probe, options.signalTo);
  const load = await loadPlan(options);
  let child: LaunchedChild | undefined;
  const onChild = (started: LaunchedChild) => {
    child = started;
    hooks.onChild?.(started);
  };
  let run: RunDocument;
  const trace = tracer ? new AttributionSession({ tracer, signal: options.signal, senderPid: process.pid }) : undefined;
  try {
    const measured = await runSettleLoop(
      {
        scenario: 'watch',
        role: 'watch',
        roleKind: 'watch',
        runtime: '-',
        options: {},
        metrics: [],
        command: options.pid === undefined ? command : [],
        pid: options.pid,
        ulimit: options.ulimit,
        signal: options.signal,
        reloadsPlanned: options.reloads,
        settleMs: options.settle,
        settleTimeoutMs: options.settleTimeout,
        readyAfterMs: options.readyAfter,
        readyTimeoutMs: startWaitMs(options.readyTimeout, Boolean(options.attribute)),
        graceMs: options.grace,
        signalTo: options.signalTo,
        trace,
        logFile: options.log === undefined ? undefined : resolve(options.log),
        recordTrace: options.recordTrace === undefined ? undefined : resolve(options.recordTrace),
        ...(load ? { load } : {}),
      },
      { probe, abort: hooks.abort, onSample: hooks.onSample, onChild },
    );
    const lastReload = measured.samples.at(-1)?.reload ?? 0;
    const attribution = trace && measured.survivors ? await trace.result(lastReload) : undefined;
    run = judgeRun({ ...measured, ...(attribution ? { attribution } : {}) }, watchExpectation(options.maxGrowth, load ? (options.maxLost ?? 0) : undefined), 'tree');
  } catch (error) {
    if (error instanceof ProbeError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  } finally {
    trace?.close();
  }
  // A program that never ran is not a program that did not take the reloads (4): the machine could not run it (3).
  const cannotRun = run.samples.length === 0 ? child?.execFailure() : undefined;
  if (cannotRun) throw new EnvironmentError(`${cannotRun}; check the program after --`);
  return run;
}

/**
 * --url: the load's target, parsed as drain parses it (http, loopback, a
 * port). A program repro starts must not find the port taken (the load would
 * measure someone else's server); with --pid the port must be listened on by
 * that process or its descendants.
 */
async function loadPlan(options: WatchOptions): Promise<ReloadLoadPlan | undefined> {
  if (options.url === undefined) return undefined;
  const target = parseTarget(options.url, '--url');
  const ready = options.readyUrl === undefined ? undefined : parseTarget(options.readyUrl, '--ready-url');
  if (options.pid === undefined && (await answersAlready(target.host, target.port))) {
    throw new UsageError(`--url ${target.url}: something already listens on ${target.host}:${target.port} before the program started; stop it or give the program another port`);
  }
  if (options.pid !== undefined && listenerOwner(options.pid, target.port) === undefined) {
    throw new UsageError(`--url ${target.url}: pid ${options.pid} and its descendants do not listen on port ${target.port}; give the port the service listens on, or the pid of the server`);
  }
  return {
    url: target.url,
    host: target.host,
    port: target.port,
    path: target.path,
    ...(ready ? { ready: { host: ready.host, port: ready.port, path: ready.path } } : {}),
    concurrency: options.concurrency ?? WATCH_CONCURRENCY,
    method: options.method ?? 'GET',
    readyTimeoutMs: options.readyTimeout,
  };
}

/** The flags that go together (or not), before anything is probed. */
function checkWatchOptions(command: string[], options: WatchOptions, hooks: WatchCommandHooks): void {
  if (options.pid !== undefined && command.length > 0) throw new UsageError('give either --pid PID or a command after --, not both');
  if (options.pid === undefined) checkCommand(command);
  if (options.pid !== undefined) {
    if (!processExists(options.pid)) throw new UsageError(`--pid ${options.pid}: no such process; check the pid (e.g. with pgrep)`);
    if (options.ulimit !== undefined) throw new UsageError('--ulimit applies to a program repro starts; with --pid set the limit with prlimit instead');
  }
  if (options.ulimit !== undefined && hooks.hardLimit != null && options.ulimit > hooks.hardLimit) {
    throw new UsageError(`--ulimit ${options.ulimit} is above this shell's hard limit ${hooks.hardLimit}; use --ulimit ${hooks.hardLimit} or less`);
  }
  if (options.attribute && options.pid !== undefined) throw new UsageError('--attribute traces a program repro starts; it cannot attach to --pid: start the service after -- instead');
  if (options.url === undefined) {
    const loadOnly = (['readyUrl', 'concurrency', 'method', 'maxLost'] as const).find((key) => options[key] !== undefined);
    const flag = { readyUrl: '--ready-url', concurrency: '--concurrency', method: '--method', maxLost: '--max-lost' };
    if (loadOnly) throw new UsageError(`${flag[loadOnly]} applies to the load of --url; give --url http://127.0.0.1:PORT/PATH too, or leave ${flag[loadOnly]} out`);
  }
}

/** --pid: the process can be read, and is safe to signal (never one the signal would kill or stop, a zombie, a kernel thread or repro's own ancestors). */
async function checkAttachable(pid: number, signal: NodeJS.Signals, probe: FdProbe, signalTo: SignalTo | undefined): Promise<void> {
  try {
    await probe.list(pid);
  } catch (error) {
    if (error instanceof ProbeError) {
      if (error.failure === 'gone') throw new UsageError(`--pid ${pid}: no such process; check the pid (e.g. with pgrep)`, { cause: error });
      throw new EnvironmentError(error.message, { cause: error });
    }
    throw error;
  }
  const refusal = pidRefusal(pid, signal);
  if (refusal) throw new ReproError(`--pid ${pid}: ${refusal.reason}`, refusal.exitCode);
  if (signalTo === 'group') checkGroup(pid, signal);
}

/**
 * --signal-to group sends to every process of the target's group: each one
 * is checked as the target is (a handler, or blocked and waited for), and
 * repro and its ancestors are never in it (a shell without job control puts
 * what it starts, repro included, in its own group). One that fails: exit 2,
 * naming every such process, before anything is sent.
 */
function checkGroup(pid: number, signal: NodeJS.Signals): void {
  const pgid = procfsView().stat(pid)?.pgid;
  if (pgid === undefined) throw new UsageError(`--pid ${pid}: no such process; check the pid (e.g. with pgrep)`);
  const refused = refusedReceivers(groupMembers(pgid), signal);
  if (refused.length === 0) return;
  const short = (r: Refused) => `pid ${r.pid} (${r.command.length > 60 ? `${r.command.slice(0, 59)}…` : r.command})`;
  const harmed = refused.filter((r) => !r.protectedPid);
  const own = refused.filter((r) => r.protectedPid);
  const parts = [
    ...harmed.slice(0, 5).map((r) => `${short(r)}: ${r.reason.replace(/^process \d+ /, '')}`),
    ...(harmed.length > 5 ? [`${harmed.length - 5} more without a handler`] : []),
    ...(own.length > 0 ? [`repro itself and its ancestors: ${own.map(short).join(', ')}`] : []),
  ];
  throw new UsageError(
    `--pid ${pid} --signal-to group: ${signal} to process group ${pgid} would reach processes that must not get it: ${parts.join('; ')}; start the service in a group of its own (setsid) or send to the process alone (--signal-to program, or tree)`,
  );
}

/**
 * `--log FILE` must name a file repro can follow: a regular file it can read,
 * or a file not created yet in an existing directory. A directory, a FIFO, a
 * device, an unreadable file or a path through a non-directory is one line
 * and exit 2, before anything starts.
 */
export function checkLogFile(path: string): void {
  const fix = "give the log file the program writes (e.g. nginx's error.log)";
  if (path === '') throw new UsageError(`--log needs a file path; ${fix}`);
  const shown = JSON.stringify(path);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`--log ${shown}: a part of the path before the file name is not a directory; ${fix}`);
    if (code !== 'ENOENT') throw new UsageError(`--log ${shown}: cannot be read (${code}); ${fix}`);
    // Not there yet: the program may create it, in a directory that exists.
    const dir = dirname(resolve(path));
    let parent: Stats | undefined;
    try {
      parent = statSync(dir);
    } catch (parentError) {
      throw new UsageError(`--log ${shown}: ${(parentError as NodeJS.ErrnoException).code === 'ENOENT' ? `there is no directory ${dir}` : `cannot read ${dir} (${(parentError as NodeJS.ErrnoException).code})`}; ${fix}`);
    }
    if (!parent.isDirectory()) throw new UsageError(`--log ${shown}: ${dir} is not a directory; ${fix}`);
    return;
  }
  if (st.isDirectory()) throw new UsageError(`--log ${shown}: is a directory; ${fix}`);
  if (!st.isFile()) throw new UsageError(`--log ${shown}: is not a regular file (a FIFO, socket or device); ${fix}`);
  try {
    closeSync(openSync(path, 'r'));
  } catch (error) {
    throw new UsageError(`--log ${shown}: cannot be read (${(error as NodeJS.ErrnoException).code}); ${fix}`);
  }
}

/**
 * Why a signal to `pid` is refused, with the exit read from the facts, not
 * from the sentence: a pid that names the wrong process (none, repro itself or
 * an ancestor, a kernel thread) is a usage error (2); one that cannot take a
 * reload (a zombie, no handler) is inconclusive (4).
 */
function pidRefusal(pid: number, signal: NodeJS.Signals): { reason: string; exitCode: ExitCode } | null {
  const facts = targetFacts(pid, signal);
  const reason = refusalFor(signal, facts);
  if (reason === null) return null;
  const wrongTarget = !facts.exists || facts.protectedPids.includes(pid) || facts.kernelThread;
  return { reason, exitCode: wrongTarget ? ExitCode.USAGE : ExitCode.INCONCLUSIVE };
}
