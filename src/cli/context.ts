/** What a command needs from the process it runs in: where to print, colour, interruption. */
import { readFileSync } from 'node:fs';
import { EnvironmentError, ExitCode } from '../errors.js';
import { parseLimits } from '../proc/proc-text.js';
import type { FdProbe } from '../fdprobe/probe.js';
import type { LaunchedChild } from '../harness/launch.js';
import { finishProgress } from '../report/progress.js';

export { useColor } from './color.js';

/** A terminal's width; a pty nobody sized (`script` in a pipe) says 0, which is no width. */
const ttyColumns = (stream: NodeJS.WriteStream): number | undefined => (stream.isTTY && stream.columns > 0 ? stream.columns : undefined);

/** COLUMNS when it is a positive number of columns. */
function columnsFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const n = /^\d+$/.test(env.COLUMNS ?? '') ? Number(env.COLUMNS) : 0;
  return n > 0 ? n : undefined;
}

/** The width a chart is drawn in: the terminal's, else COLUMNS, else 80; within 60–120 so a chart stays readable. */
export function terminalWidth(env: NodeJS.ProcessEnv = process.env, stream: NodeJS.WriteStream = process.stdout): number {
  return Math.min(120, Math.max(60, ttyColumns(stream) ?? columnsFromEnv(env) ?? 80));
}

/**
 * The columns a summary's text is wrapped to: a terminal's width (COLUMNS
 * wins when set), at least 40. In a pipe or a CI log without COLUMNS, none:
 * each row and check stays on one line that grep finds whole, and the log
 * viewer wraps it.
 */
export function textColumns(env: NodeJS.ProcessEnv = process.env, stream: NodeJS.WriteStream = process.stdout): number | undefined {
  const columns = columnsFromEnv(env) ?? ttyColumns(stream);
  return columns === undefined ? undefined : Math.max(40, columns);
}

/** This process's hard RLIMIT_NOFILE: a child cannot be given more. */
export function ownHardFdLimit(): number | null {
  try {
    return parseLimits(readFileSync('/proc/self/limits', 'utf8')).hard;
  } catch {
    return null;
  }
}

/** The exit code for a command ended by this signal: 130 for SIGINT, 143 for SIGTERM. */
export function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
}

/**
 * The fd probe for this machine, shown to work before anything starts: procfs
 * where there is one; otherwise lsof, tried on repro's own process, because on
 * Linux lsof reads /proc too and, without it, makes every process look gone.
 */
export async function workingProbe(): Promise<FdProbe> {
  // procfs first, on its own: the lsof back end (and node:child_process with it) loads only where there is no procfs.
  const { hasProcfs, ProcfsProbe } = await import('../fdprobe/procfs.js');
  if (hasProcfs()) return new ProcfsProbe();
  const { defaultProbe, ProbeError } = await import('../fdprobe/index.js');
  const probe = defaultProbe();
  try {
    await probe.list(process.pid);
  } catch (error) {
    if (!(error instanceof ProbeError)) throw error;
    if (error.failure === 'unsupported') throw new EnvironmentError(`${error.message}, or mount procfs (mount -t proc proc /proc)`, { cause: error });
    throw new EnvironmentError('no procfs at /proc, and lsof cannot list even repro\'s own fds without it; mount procfs (mount -t proc proc /proc)', { cause: error });
  }
  return probe;
}

/**
 * Ctrl-C (or SIGTERM) aborts the run: children are torn down and what was
 * sampled is still written. A second one kills every child at once and exits.
 */
export class Interruption {
  readonly controller = new AbortController();
  readonly #children = new Set<LaunchedChild>();
  signal: NodeJS.Signals | undefined;
  readonly #handler = (sig: NodeJS.Signals) => {
    if (this.signal) {
      for (const child of this.#children) child.killNow();
      process.exit(exitCodeFor(sig));
    }
    this.signal = sig;
    finishProgress();
    process.stderr.write(`repro: ${sig} received, ${this.doing} (again to exit at once)\n`);
    this.controller.abort();
  };

  /** `doing`: what happens now, for the one line printed on the first signal. */
  constructor(private readonly doing = 'stopping children and writing what was sampled') {
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  track(child: LaunchedChild): void {
    this.#children.add(child);
    void child.exited.then(() => this.#children.delete(child));
  }

  dispose(): void {
    process.removeListener('SIGINT', this.#handler);
    process.removeListener('SIGTERM', this.#handler);
  }
}
