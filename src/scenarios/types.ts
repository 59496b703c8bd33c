/**
 * What a scenario is, as one object in its own folder: what it shows, the
 * signal, the options it adds, its roles (broken, correct, variants) and the
 * children that play them per runtime, the metrics it records beyond fds, and
 * what it expects of each role. The harness, the model and the views read
 * these fields; none of them names a scenario.
 */
import type { FdEntry } from '../fdprobe/probe.js';
import type { TrialProcedure } from '../kinds/trials/procedure.js';
import type { Expectation, MetricDescriptor, RoleKind } from '../model/run-document.js';

/** One run of the scenario: the leak, the fix, or another variant worth showing. */
export interface Role {
  name: string;
  kind: Exclude<RoleKind, 'watch'>;
  /** One line: what this child does. */
  summary: string;
  /** Runtimes that have a child for this role (default: every runtime of the scenario). */
  runtimes?: readonly string[];
}

/**
 * An option the scenario adds to broken/correct/compare (e.g. `--channel`),
 * declared here only: the CLI builds its commander option, its parser, its
 * default and `repro list`'s line from this.
 */
export interface ScenarioOption {
  /** Key in the run's `options` and in the parsed CLI options (commander's camel-cased flag name). */
  key: string;
  /** Commander's flag text, e.g. `--channel <kind>`. */
  flag: string;
  /** What --help says after "<scenario>'s ", e.g. "native wake-up channel (Node children): pipe or signalfd". */
  help: string;
  /** The values it takes; anything else is refused naming the flag and these. */
  choices: readonly string[];
  /** The value when the flag is not given (one of `choices`). */
  default: string;
  /** Runtimes that honour it; elsewhere it is refused unless left at its default. */
  runtimes?: readonly string[];
}

/** A metric beyond fds, and how to read it at each sample. */
export interface ScenarioMetric extends MetricDescriptor {
  /** A numeric field of each acknowledgement (`reload` event) and of `ready`. */
  fromEvent?: string;
  /** Computed from the process, its listing and its /proc/PID/status text (read once per sample; undefined off procfs) at each sample (e.g. disk space held by deleted files). */
  fromProcess?: (pid: number, fds: readonly FdEntry[], status: string | undefined) => number | undefined;
}

/** What a run needs around its child: extra arguments, and work before each signal (e.g. rotate a log). */
export interface RunSetup {
  /** Appended to the child's command line. */
  args: string[];
  /** Called right before each reload's signal is sent. */
  beforeSignal?: (reload: number) => void;
  /** Removes what the setup made (temporary files); called once the child is gone. */
  dispose(): void;
}

/** A scenario's option values, as parsed (scenario option keys → values). */
export type ScenarioOptionValues = Record<string, string>;

export interface Scenario {
  name: string;
  /** One line: what goes wrong and what the fix is. */
  summary: string;
  /** The reload signal. */
  signal: NodeJS.Signals;
  /** broken first, then correct, then variants: the order of a compare. */
  roles: readonly Role[];
  /** Runtimes with children, the first is the default. */
  runtimes: readonly string[];
  options: readonly ScenarioOption[];
  metrics: readonly ScenarioMetric[];
  /** The child's argv for a role in a runtime (before `setup` args); a runtime module builds or finds it. */
  command(role: Role, runtime: string, options: ScenarioOptionValues, abort?: AbortSignal): Promise<string[]>;
  /** What the role must show, as data the judge reads. */
  expect(role: Role, options: ScenarioOptionValues, thresholds: { maxGrowth: number }): Expectation;
  /**
   * Which driver runs it: `reload-loop` (default: signal, acknowledgement, sample), `rounds` (phase markers
   * snapshotted per round, fds left by identity) or `load-and-signal` (an HTTP server under load, one signal,
   * every request in a ledger; the role's expectation then carries `drain`) or `reload-under-load` (watch --url's
   * driver: the child under load through its reloads, every request by reload window; `reloadLoad` in the expectation).
   */
  driver?: 'reload-loop' | 'rounds' | 'load-and-signal' | 'reload-under-load' | 'trials' | 'ledger';
  /** trials: one trial's procedure on a fresh child (the burst or storm, the outcome), its outcome classes and default trial count. */
  trial?: TrialProcedure;
  /** ledger: what repro hands the child across the signal (harness/drivers/ledger-run.ts): jobs from a broker, increments to a service, or requests under repeated signals. */
  ledger?: { exercise: 'queue' | 'increments' | 'request-latency' };
  /** reload-under-load: the child arguments that make it listen on this port of 127.0.0.1 (the load's target). */
  listenArgs?(port: number): string[];
  /** Reloads a run sends when --reloads is not given, where the shared default (500) does not fit (a reload under load takes a window of load). */
  reloadsDefault?: number;
  /** load-and-signal: extra child arguments for the run's routing lag and grace period (ms). */
  drainArgs?(timing: { lagMs: number; graceMs: number }): string[];
  /**
   * fds one reload holds at its peak above the child's fds when ready, per runtime, where a reload opens
   * more than it leaves (a runtime started and stopped per round): --ulimit must leave room for one whole
   * reload, or even the correct child fails with EMFILE. Measured: the lowest --ulimit a child completes a
   * reload under, minus its fds when ready. Absent: a reload opens only what it leaks.
   */
  peakFdsPerReload?: Readonly<Record<string, number>>;
  /** Per-run set-up (temporary files, work between reloads); none when absent. */
  setup?(role: Role): RunSetup;
}
