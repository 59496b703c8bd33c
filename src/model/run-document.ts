/**
 * The one data model: a run is a plain JSON-serialisable object. Every output
 * (summary, chart, JSON, and the later formats) is a view of it; nothing
 * reaches back into the harness.
 */
import type { KindCounts } from '../fdprobe/kinds.js';
import type { ProtocolEvent } from '../protocol/events.js';
import type { DrainExpectation } from './drain.js';
import type { DrainRunRecord } from '../kinds/drain/record.js';
import type { LedgerExpectation } from '../kinds/ledger/judge.js';
import type { LedgerRunRecord } from '../kinds/ledger/record.js';
import type { ReloadsRecord } from '../kinds/reloads/record.js';
import type { RoundsRecord } from '../kinds/rounds/record.js';
import type { TreeRecord } from '../kinds/tree/record.js';
import type { TrialsExpectation, TrialsRunRecord } from '../kinds/trials/record.js';

/** 2: roles, runtimes, scenario options, generic metrics, measured apart from the verdict, checks as data. */
export const SCHEMA_VERSION = 2 as const;

/** A number a scenario records beyond fds, named once with its label and unit. */
export interface MetricDescriptor {
  /**
   * Key in `Sample.metrics` and `Measured.metrics`, e.g. `listeners`.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]*$
   */
  id: string;
  /** What views call it, e.g. `log handlers`. */
  label: string;
  /** Unit, or `` for a count. */
  unit: string;
  /** Where the number comes from, in one sentence. */
  description: string;
  /**
   * The number is about each reload (or round) on its own, e.g. what one round left, not a running
   * total: views show its median per reload and its range, not `start → end`.
   */
  perReload?: boolean;
}

/** One probe after one reload (reload 0 is the baseline, taken after `ready`). */
export interface Sample {
  /**
   * Reload number; 0 is the baseline before any signal.
   * @minimum 0
   * @integer
   */
  reload: number;
  /**
   * Since the run started (child spawned).
   * @minimum 0
   */
  elapsedMs: number;
  /**
   * Open fds of the child after this reload.
   * @minimum 0
   * @integer
   */
  fds: number;
  fdsByKind: KindCounts;
  /**
   * The scenario's own metrics at this sample (see `RunDocument.metrics`); a metric not measured at this sample is absent.
   * @propertyNames { "pattern": "^[A-Za-z][A-Za-z0-9_-]*$" }
   */
  metrics?: Record<string, number>;
  /**
   * Resident set size of the child.
   * @minimum 0
   * @integer
   */
  rssKb?: number;
  /**
   * kill() → acknowledgement line received; absent for the baseline and unacknowledged reloads.
   * @minimum 0
   */
  roundTripMs?: number;
  /**
   * watch: kill() → the reload finished (every thread back idle and the fd count held for the confirmation, or for the settle window where threads cannot be judged), the window included.
   * @minimum 0
   */
  settleMs?: number;
  /**
   * watch: kill() → the signal left every pending set of its target(s) (SigPnd, ShdPnd), ms.
   * @minimum 0
   */
  deliveredMs?: number;
  /**
   * watch: the processes of the watched tree at this sample, most fds first (at most `MAX_SAMPLE_PROCESSES`); `fds` is their total.
   * @maxItems 16
   */
  processes?: ProcessSample[];
  /**
   * watch: processes in the tree at this sample (may exceed `processes.length`).
   * @minimum 0
   * @integer
   */
  processCount?: number;
}

/** At most this many processes are kept per sample (the most fds first). */
export const MAX_SAMPLE_PROCESSES = 16;

/** One process of the watched tree at one sample. */
export interface ProcessSample {
  /**
   * @minimum 1
   * @integer
   */
  pid: number;
  /**
   * Parent's pid.
   * @minimum 0
   * @integer
   */
  ppid: number;
  /** Command line (argv joined by spaces, at most 200 characters). */
  command: string;
  /**
   * Open fds of this process.
   * @minimum 0
   * @integer
   */
  fds: number;
  byKind: KindCounts;
}

/** A process seen in the watched tree during the run. */
export interface MeasuredProcess {
  /**
   * @minimum 1
   * @integer
   */
  pid: number;
  /**
   * @minimum 0
   * @integer
   */
  ppid: number;
  command: string;
  /**
   * First and last sample (reload) it was seen in.
   * @minimum 0
   * @integer
   */
  firstReload: number;
  /**
   * @minimum 0
   * @integer
   */
  lastReload: number;
  /**
   * Its open fds at those samples.
   * @minimum 0
   * @integer
   */
  fdsFirst: number;
  /**
   * @minimum 0
   * @integer
   */
  fdsLast: number;
}

/** How a lost request failed, by class (watch --url): what the client saw. */
export type LossClass = 'refused' | 'reset' | '5xx' | 'timeout' | 'cut';

/** The requests that started in one reload's window (after its signal, before the next one), watch --url. */
export interface ReloadWindow {
  /**
   * The reload whose signal opened the window; 0: before the first signal (the warm-up).
   * @minimum 0
   * @integer
   */
  reload: number;
  /** ms from the load's start to the signal (0 for the warm-up window). */
  startMs: number;
  /** ms from the signal to the moment repro saw the reload take effect; absent when it was never seen (and for the warm-up). */
  tookEffectMs?: number;
  /** What showed the reload took effect (`new worker generation`, `listener re-created`, `re-exec`, `acknowledged`, `log line`), absent when nothing did. */
  evidence?: string;
  /**
   * Requests that started in the window (a retried GET counted once, by its retry).
   * @minimum 0
   * @integer
   */
  requests: number;
  /**
   * Answered 2xx.
   * @minimum 0
   * @integer
   */
  ok: number;
  /**
   * Answered with another status below 500 (a 4xx is an answer, not a loss).
   * @minimum 0
   * @integer
   */
  otherStatus: number;
  /**
   * Lost: refused, reset, a 5xx, a timeout or a cut body.
   * @minimum 0
   * @integer
   */
  lost: number;
  /**
   * Lost requests by class (classes with none left out).
   * @minimum 0
   * @integer
   */
  lostBy: Partial<Record<LossClass, number>>;
  /**
   * GETs retried once on a new connection after the keep-alive close race.
   * @minimum 0
   * @integer
   */
  retried: number;
}

/** watch --url: the load that ran through the reloads, and every request by the reload window it started in. */
export interface ReloadLoad {
  /** The URL every request went to (loopback). */
  url: string;
  /** GET (retried once after the keep-alive close race) or POST (never retried). */
  method: 'GET' | 'POST';
  /**
   * Concurrent clients.
   * @minimum 1
   * @integer
   */
  concurrency: number;
  /**
   * Requests recorded over the whole load.
   * @minimum 0
   * @integer
   */
  total: number;
  /**
   * Of those, lost.
   * @minimum 0
   * @integer
   */
  lost: number;
  /**
   * Signals sent.
   * @minimum 0
   * @integer
   */
  signalsSent: number;
  /**
   * Reloads seen to take effect (each signal is sent only after the last one took effect).
   * @minimum 0
   * @integer
   */
  tookEffect: number;
  /** One window per signal, after the warm-up window (reload 0). */
  windows: ReloadWindow[];
  /** Lost requests grouped by reload and what the client saw, most first; at most 32 groups. */
  causes: { reload: number; lossClass: LossClass; cause: string; count: number }[];
  /** How the load ended: stopped before the final drain and the last sample, so its connections are never survivors. */
  stoppedMs?: number;
  /** A sentence when the load could not run its whole course (the run ended early). */
  note?: string;
}

/** watch: what was watched, where the signal went, and how a reload was known to be finished. */
export interface WatchedTree {
  /** `program`: the started program (or --pid); `group`: its process group; `tree`: every process of the tree that catches (or waits for) the signal. */
  signalTo: 'program' | 'group' | 'tree';
  /**
   * The started program's pid (under the keeper), or the --pid.
   * @integer
   */
  programPid: number | null;
  /** Where signals went instead of the program, and why (a program that daemonized), when they did. */
  signalTargetNote?: string;
  /** Why the program ran without the keeper (no C compiler to build it), when it did: daemons then escape the watch; or, when the keeper was killed under the program, what repro ended in its place. */
  keeperNote?: string;
  /** How each reload was known finished: every thread back where it idled and the fd floor held, or the fd floor alone. */
  completion: 'threads-and-fd-floor' | 'fd-floor-only' | 'took-effect-under-load';
  /** Why the floor alone decided (e.g. /proc/PID/task/TID/syscall not readable), when it did. */
  completionNote?: string;
  /** Reload 1's calibration and what it set (absent: older documents, or no reload finished). */
  calibration?: {
    /**
     * Reload 1, from the signal to its last move (the fd floor's, or the threads' return to idle), ms.
     * @minimum 0
     */
    reloadMs: number;
    /**
     * How long everything held after that before reload 1 counted as finished, ms.
     * @minimum 0
     */
    heldMs: number;
    /**
     * The least wait after each later signal (twice `reloadMs`), ms.
     * @minimum 0
     */
    floorMs: number;
    /**
     * The confirmation window after the final drain, ms (absent: the run ended before it).
     * @minimum 0
     */
    endWindowMs?: number;
  };
  /**
   * Processes seen in any sample, first seen first (at most `MAX_TREE_PROCESSES`).
   * @maxItems 32
   */
  processes: MeasuredProcess[];
  /**
   * Processes seen in all (may exceed `processes.length`).
   * @minimum 0
   * @integer
   */
  processesSeen: number;
  /** The process with the most survivors, when any fd survived: per reload, its own fd limit and where EMFILE comes for it. */
  grew?: {
    /**
     * @minimum 1
     * @integer
     */
    pid: number;
    command: string;
    /**
     * Survivors per counted reload in this process.
     * @minimum 0
     */
    survivorsPerReload: number;
    /**
     * @minimum 0
     * @integer
     */
    fdsAtStart: number;
    /**
     * @minimum 0
     * @integer
     */
    fdsAtEnd: number;
    /**
     * Its own soft RLIMIT_NOFILE; null when unlimited or unread.
     * @integer
     */
    limit: number | null;
    /**
     * (limit − fds at start) / survivors per reload + 1; null without a limit.
     * @integer
     */
    predictedEmfileAtReload: number | null;
  };
}

/** At most this many processes are listed in `WatchedTree.processes`. */
export const MAX_TREE_PROCESSES = 32;

/** watch: the fds opened in each reload that were still open at the end (the leak gate). */
export interface SurvivorSummary {
  /**
   * Reloads 1..reloadsCounted are counted (the first three quarters: the others had no time to be cleaned up).
   * @minimum 0
   * @integer
   */
  reloadsCounted: number;
  /**
   * fds first seen after a counted reload and still open in the last sample.
   * @minimum 0
   * @integer
   */
  survivorsCounted: number;
  /**
   * Survivors of counted reloads that replaced an fd open since the start (same process and kind, closed in that reload): not in survivorsCounted (absent: older documents).
   * @minimum 0
   * @integer
   */
  survivorsReplaced?: number;
  /**
   * survivorsCounted / reloadsCounted: 0 for transient fds, churn and bounded caches; ≥ 1 per reload for a leak.
   * @minimum 0
   */
  survivorsPerReload: number;
  /**
   * Counted reloads that left at least one survivor.
   * @minimum 0
   * @integer
   */
  reloadsWithSurvivors: number;
  /** Kinds that survived, counted reloads only. */
  survivedKinds: KindCounts;
  /**
   * One line per reload, oldest first (at most `MAX_SURVIVOR_LINES`).
   * @maxItems 200
   */
  byReload: {
    /**
     * @minimum 1
     * @integer
     */
    reload: number;
    /**
     * @minimum 0
     * @integer
     */
    opened: number;
    /**
     * @minimum 0
     * @integer
     */
    survived: number;
    /**
     * Of `survived`, those that replaced an fd open since the start (not counted; absent: none, or older documents).
     * @minimum 0
     * @integer
     */
    replaced?: number;
    survivedKinds: KindCounts;
    counted: boolean;
  }[];
  /**
   * Reload lines not kept (long runs).
   * @minimum 0
   * @integer
   */
  byReloadNotShown: number;
  /**
   * Per process with survivors, most first (at most `MAX_SAMPLE_PROCESSES`).
   * @maxItems 16
   */
  byProcess: {
    /**
     * @minimum 1
     * @integer
     */
    pid: number;
    command: string;
    /**
     * @minimum 0
     * @integer
     */
    survived: number;
    /** @minimum 0 */
    perReload: number;
    survivedKinds: KindCounts;
  }[];
}

/** How a surviving fd came to be, when the trace has no call that made it. */
export type AttributionOrigin = 'call' | 'scm-rights' | 'inherited' | 'io-uring' | 'before-tracing' | 'untraced-call';

/** One group of surviving fds: same process, same origin, same call site. */
export interface AttributionGroup {
  /**
   * @minimum 1
   * @integer
   */
  pid: number;
  /** The process's command as the trace knew it (from its execve). */
  command: string;
  /** `call`: made by `syscall`; `scm-rights`: received through recvmsg (`syscall` is it); the rest have no call in the trace. */
  origin: AttributionOrigin;
  /** The call that made the fds (absent when none did, as far as the trace saw). */
  syscall?: string;
  /** Its arguments, of the first fd of the group (`-y` decorations dropped, bounded). */
  args?: string;
  /**
   * fds in the group, and per reload done.
   * @minimum 1
   * @integer
   */
  count: number;
  /**
   * @minimum 0
   */
  perReload: number;
  /**
   * Reload after which the first of them was first seen (from /proc), and the trace's reload when the first was made.
   * @minimum 0
   * @integer
   */
  firstReload: number;
  /**
   * @minimum 0
   * @integer
   */
  createdAtReload?: number;
  /**
   * Set when the fds reached this process by fork: the process that made them.
   * @minimum 1
   * @integer
   */
  createdInPid?: number;
  /** fd kinds of the group. */
  kinds: KindCounts;
  /**
   * Up to 8 fd numbers.
   * @maxItems 8
   * @minimum 0
   * @integer
   */
  fds: number[];
  /**
   * The deepest frames of the call's stack that belong to the program (`program`), or to the runtime of an interpreted one (`runtime`), innermost first.
   * @maxItems 8
   */
  frames: { symbol: string; object: string }[];
  frameOrigin: 'program' | 'runtime' | 'none';
  /**
   * Frames folded away (libc, the loader, libraries, runtime internals).
   * @minimum 0
   * @integer
   */
  foldedFrames: number;
  /** Set when the call ran on a runtime's worker pool for code on another thread (Node's async fs calls on libuv's threadpool; tokio::fs and spawn_blocking on Tokio's blocking pool): the code that asked for it is not in this stack. */
  workerPool?: 'libuv-threadpool' | 'tokio-blocking-pool';
  /** What /proc/PID/fdinfo says the first fd is (a signalfd's mask, an inotify's watches, an epoll's targets). */
  fdinfo?: string;
}

/** --attribute: where each surviving fd (watch) or leaked fd (scenario runs: open at the last sample, not at the baseline) came from, reconciled from an strace of the run. */
export interface Attribution {
  /** The tracer as run (`strace 6.1 -f -k --seccomp-bpf`). */
  tracer: string;
  /** Whether stacks were recorded (-k). */
  stacks: boolean;
  /**
   * Survivors of every reload (counted or not) that were attributed.
   * @minimum 0
   * @integer
   */
  survivors: number;
  /**
   * Of those, made by a call the trace saw (origin `call`).
   * @minimum 0
   * @integer
   */
  attributed: number;
  /**
   * Groups, most fds first (at most `MAX_ATTRIBUTION_GROUPS`).
   * @maxItems 32
   */
  groups: AttributionGroup[];
  /**
   * @minimum 0
   * @integer
   */
  groupsNotShown: number;
  /**
   * What the streamed trace cost to keep: lines read, most fds held at once, call sites.
   * @minimum 0
   * @integer
   */
  trace: { lines: number; peakOpenFds: number; sites: number };
  /** Why attribution is partial or missing, when it is. */
  note?: string;
}

/** At most this many groups are kept in `Attribution.groups`. */
export const MAX_ATTRIBUTION_GROUPS = 32;

/** At most this many reload lines are kept in `SurvivorSummary.byReload`. */
export const MAX_SURVIVOR_LINES = 200;

/** How the run ended. */
export type EndReason =
  | 'reloads-done'
  | 'emfile'
  | 'never-settled'
  | 'signal-ignored'
  | 'child-exited'
  | 'ready-timeout'
  | 'ack-timeout'
  | 'probe-failed'
  | 'aborted'
  /** load-and-signal: the server went through the shutdown (exited, or was SIGKILLed after the grace period). */
  | 'shutdown-done'
  /** watch: the signal was not taken (blocked, a stopped process, a zombie, gone). */
  | 'not-delivered'
  /** watch: a thread of the tree did not get back to where it idled (a deadlocked handler). */
  | 'reload-unfinished'
  /** watch: a thread of the tree waits in futex inside the signal's handler, its CPU time frozen (the trials' deadlock rule): the program deadlocked in its handler. */
  | 'handler-deadlock'
  /** watch: the started program has no handler for the signal (a descendant may have one). */
  | 'no-handler';

/** How the child ended. */
export interface ChildExit {
  /**
   * Exit code, when it exited.
   * @integer
   */
  exitCode: number | null;
  /** Signal name, when a signal ended it. */
  signal: string | null;
  /** True when the harness had to SIGKILL it after the grace period. */
  forced: boolean;
  /**
   * How long teardown waited for it.
   * @minimum 0
   */
  teardownMs: number;
}

/** Bounded text the child wrote outside the protocol. */
export interface KeptOutput {
  /**
   * What was kept: all of it, or the start and the end of the stream with one
   * line `… N bytes not kept …` where the middle was dropped.
   */
  text: string;
  /** True when more was written than kept. */
  truncated: boolean;
  /**
   * Total bytes written.
   * @minimum 0
   * @integer
   */
  bytes: number;
  /**
   * Bytes dropped between the kept start and end (absent when nothing was, and in documents whose text is only the start).
   * @minimum 0
   * @integer
   */
  notKeptBytes?: number;
}

/** What a scenario expects of a run, as data: the judge reads it, and `repro report` can re-judge with other thresholds. */
export interface Expectation {
  /** What the run should show, as the headline says it (e.g. `the broken pattern leaks until EMFILE`). */
  shows: string;
  /**
   * fds each reload should leave open (within 5%); 0: the run should stay flat.
   * @minimum 0
   */
  fdsPerReload: number;
  /**
   * Largest growth per reload that still counts as flat (fd/reload), when `fdsPerReload` is 0.
   * @minimum 0
   */
  maxGrowth: number;
  /** `expected`: a register failure (EMFILE) must come, at the predicted reload; `forbidden`: none may come. */
  registerFailure: 'expected' | 'forbidden';
  /** After the register failure, one more signal should find signal handling `dead` or `alive`. */
  afterFailure?: 'dead' | 'alive';
  /** Metric ids that must end where they started. */
  flatMetrics: string[];
  /** Metric ids that must have grown over the run. */
  growingMetrics: string[];
  /** Every planned reload must be taken (flat runs). */
  allReloads: boolean;
  /** A run the program did not take (died, ignored the signal, never settled) is inconclusive, not failed (watch). */
  earlyIsInconclusive: boolean;
  /** A load-and-signal run (graceful-drain, `repro drain`): judged by its ledger (`RunDocument.drain`) instead of its fd growth. */
  drain?: DrainExpectation;
  /** A ledger run (queue-drain, state-on-shutdown): judged by what its ledger settled and how the process ended (`RunDocument.ledger`). */
  ledger?: LedgerExpectation;
  /** watch --url: at most this many requests may be lost across the reloads (`--max-lost`, default 0). */
  reloadLoad?: {
    /** Most requests lost that still pass. */
    maxLost: number;
    /** A broken role: it must lose requests, some of this class (its own cause), and the check passes when it does. */
    expectLoss?: LossClass;
  };
  /** A trials run (sigchld-reap, signal-coalescing, signal-safety): the outcome every trial must show (`RunDocument.trials`). */
  trials?: TrialsExpectation;
  /** `survivors`: leaks are judged by the fds each reload left open until the end (≤ maxGrowth per reload); growth is shown as information (watch). */
  gate?: 'survivors';
}

/** One check of the verdict: data, so views and gates never parse sentences. */
export interface Check {
  /** Stable name: `growth`, `register-failure`, `emfile-prediction`, `signal-handling`, `metric:<id>`, `reloads`, `ended`, `baseline:<role>`. */
  id: string;
  ok: boolean;
  /** One sentence with the numbers. */
  text: string;
}

/** What the samples and events say, before any judging. Pure function of the run (`measure`). */
export interface Measured {
  /**
   * fds at reload 0.
   * @minimum 0
   * @integer
   */
  baselineFds: number;
  /**
   * fds at the last sample.
   * @minimum 0
   * @integer
   */
  finalFds: number;
  /** Least-squares slope of fds over reloads (fd/reload), over the reloads before any register failure. */
  growthPerReload: number;
  /** Least-squares slope per fd kind, kinds that moved only. */
  growthByKind: KindCounts;
  /**
   * Reload at which the child reported EMFILE (or another register failure), or watch saw it.
   * @integer
   */
  emfileAtReload: number | null;
  /** errno code of the register failure, e.g. `EMFILE`. */
  registerFailure: string | null;
  /**
   * Where (limit − baseline below the limit) / growth + 1 puts the first failing reload.
   * @integer
   */
  predictedEmfileAtReload: number | null;
  /** After a register failure, did one more signal still cause a reload? */
  signalHandling: 'alive' | 'dead' | 'not-checked';
  /**
   * Reloads taken (acknowledged, or settled for watch).
   * @minimum 0
   * @integer
   */
  reloadsDone: number;
  /** Signal → acknowledgement (protocol children). */
  latencyMs: { p50: number | null; p99: number | null };
  /**
   * Child RSS at the first and last sample.
   * @integer
   */
  rssKb: { start: number | null; end: number | null };
  /** Each recorded metric: first and last value and the least-squares slope per reload. */
  metrics: Record<string, { start: number | null; end: number | null; growthPerReload: number }>;
}

export interface Verdict {
  /** Did the run show what its role is expected to show? */
  pass: boolean;
  /** The run shows neither a leak nor its absence (watch: the program did not take the reloads). */
  inconclusive?: boolean;
  /** Every check, failed ones first. */
  checks: Check[];
  /** What the run was judged against. */
  expectation: Expectation;
}

/** `--baseline OLD.json`: growth per reload now against the saved document's. */
export interface BaselineCheck {
  /** The saved document, as named on the command line. */
  file: string;
  /**
   * Largest rise in growth per reload that still passes (fd/reload).
   * @minimum 0
   */
  tolerance: number;
  runs: {
    run: string;
    /** What was compared: growth per reload (fd/reload), fds surviving per reload (watched trees), requests lost (drains). Absent: growth. */
    measure?: 'growth' | 'survivors' | 'lost';
    /** Not compared, and why (another scenario, another measure): then `regressed` is true and `before` is what the saved run measured. */
    mismatch?: string;
    before: number;
    after: number;
    change: number;
    regressed: boolean;
  }[];
  /** No run regressed. */
  pass: boolean;
}

/** What every run carries, whatever it measured. */
export interface RunCommon {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: 'run';
  /** Scenario name, or `watch` for `repro watch`. */
  scenario: string;
  /** Which run of the scenario: `broken`, `correct`, a named variant (e.g. `tokio-per-reload`), or `watch`. */
  role: string;
  /** What the role is: the leak, the fix, another variant of the scenario, or any program (watch). */
  roleKind: RoleKind;
  /** Runtime of the child (`node`, `rust`, `python`); `-` for watch. */
  runtime: string;
  /** The scenario's own options, as run (e.g. `{ "channel": "pipe" }`). */
  options: Record<string, string | number>;
  /**
   * @pattern ^SIG[A-Z0-9+-]+$
   */
  signal: string;
  /** The child command line (without the ulimit launcher). */
  command: string[];
  /**
   * RLIMIT_NOFILE (soft limit) the child ran under: lowered by --ulimit, or what it had; null when never read (the process was gone first).
   * @minimum 0
   * @integer
   */
  ulimit: number | null;
  /**
   * Reloads asked for.
   * @minimum 0
   * @integer
   */
  reloadsPlanned: number;
  /**
   * fds the child held at the baseline with numbers at or above the limit
   * (inherited from whoever started the harness). They count, but take no
   * slot below the limit, so the EMFILE prediction leaves them out.
   * @minimum 0
   * @integer
   */
  fdsAboveLimitAtStart: number;
  /**
   * fds one reload holds at its peak above the fds when ready, where a reload opens more than it leaves
   * (a runtime started and stopped per round). EMFILE then comes when a reload's peak no longer fits.
   * @minimum 0
   * @integer
   */
  peakFdsPerReload?: number;
  platform: { os: string; arch: string; release: string; node: string; probe: string };
  /**
   * @pattern ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}
   */
  startedAt: string;
  /**
   * @integer
   */
  pid: number | null;
  /**
   * Samples, oldest first. Long runs are thinned to a bounded number: then
   * only every `sampleStride`-th reload is kept (plus the baseline and the last).
   */
  samples: Sample[];
  /**
   * Reloads between two kept samples (1: every reload).
   * @minimum 1
   * @integer
   */
  sampleStride: number;
  /**
   * The harness's own peak RSS at the end of the run: it must stay bounded however long the run.
   * @minimum 0
   * @integer
   */
  harnessPeakRssKb: number;
  /** The scenario's metrics: what each key of `Sample.metrics` means. */
  metrics: MetricDescriptor[];
  /** Protocol events other than per-reload acknowledgements (those are in samples); unknown events are kept too. */
  events: ProtocolEvent[];
  end: {
    reason: EndReason;
    /** Human-readable detail: which phase timed out, what the probe said. */
    detail: string;
    child: ChildExit | null;
    /**
     * @minimum 0
     */
    wallMs: number;
  };
  stderr: KeptOutput;
  /** Non-protocol lines on stdout. */
  stdout: KeptOutput;
  measured: Measured;
  verdict: Verdict;
  baseline?: BaselineCheck;
}

/** Every kind's part of the document, flat: what the harness fills before the kind is named. */
type AnyRecord = Omit<ReloadsRecord, 'measurement'> & Omit<RoundsRecord, 'measurement'> & Omit<TreeRecord, 'measurement'> & Omit<DrainRunRecord, 'measurement'> & Omit<TrialsRunRecord, 'measurement'> & Omit<LedgerRunRecord, 'measurement'>;

/** Fields of the other kinds, which a run of this kind never carries. */
type Absent<T> = { [K in keyof T]?: undefined };

/** A run of one kind: the common fields, its own part, and none of the others'. */
type RunOf<R extends { measurement: Measurement }> = RunCommon & R & Absent<Omit<AnyRecord, keyof R>>;

/** What a run measured: the kind it is, which picks its judge and its facts (src/kinds/index.ts). */
export type Measurement = 'reloads' | 'rounds' | 'tree' | 'drain' | 'trials' | 'ledger';

export type ReloadsRun = RunOf<ReloadsRecord>;
export type RoundsRun = RunOf<RoundsRecord>;
export type TreeRun = RunOf<TreeRecord>;
export type DrainRun = RunOf<DrainRunRecord>;
export type TrialsRun = RunOf<TrialsRunRecord>;
export type LedgerRun = RunOf<LedgerRunRecord>;

/** A judged run: a union on `measurement` (top-level `kind` tells a run from a compare). */
export type RunDocument = ReloadsRun | RoundsRun | TreeRun | DrainRun | TrialsRun | LedgerRun;

export type RoleKind = 'broken' | 'correct' | 'variant' | 'watch';

/** A run before judging: what the harness returns. */
export type MeasuredRun = Omit<RunCommon, 'verdict' | 'baseline'> & Partial<AnyRecord> & {
  /** Set by the command from its driver; derived from the fields when absent (src/kinds/index.ts). */
  measurement?: Measurement;
};

/** A compare's verdict: every run as its role expects. */
export interface CompareVerdict {
  pass: boolean;
  /** No run failed by a finding and at least one could not tell (exit 4): a finding in any run makes the compare a FAIL instead. */
  inconclusive?: boolean;
  /** One check per run (id `run:<role>`), failed ones first, then any baseline checks. */
  checks: Check[];
}

export interface CompareDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: 'compare';
  scenario: string;
  runtime: string;
  /**
   * @pattern ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}
   */
  startedAt: string;
  /**
   * Every role of the scenario that ran, broken first, then correct, then variants.
   * @minItems 1
   */
  runs: RunDocument[];
  /** Every role the compare was to run, in order; a role missing from `runs` never ran (an interruption), and the compare cannot pass. Absent in older documents. */
  roles?: string[];
  verdict: CompareVerdict;
  /**
   * @minimum 0
   */
  wallMs: number;
  baseline?: BaselineCheck;
}

export type ReproDocument = RunDocument | CompareDocument;
