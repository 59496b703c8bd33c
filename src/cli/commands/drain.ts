/**
 * `repro drain -- <command>`: the shutdown twin of `repro watch`. Starts any
 * HTTP server, waits until `--url` answers 200, puts it under the load
 * generator's load, sends `--signal` at a seeded moment, keeps the load on
 * through `--lag`, SIGKILLs after `--grace`, and judges the ledger: any lost
 * request fails (exit 1), and so does a server that had to be SIGKILLed; a
 * run that could not tell (the signal never reached the process holding the
 * listener, too little load) is inconclusive (exit 4). The load goes to
 * loopback only: GETs by default (retried once after the keep-alive close
 * race), POSTs with --method POST (never retried).
 */
import { keeperUnavailable } from '../../harness/tree/keeper.js';
import { ProbeError } from '../../fdprobe/errors.js';
import { defaultProbe } from '../../fdprobe/index.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import { runDrain } from '../../harness/drivers/drain-run.js';
import type { LaunchedChild } from '../../harness/launch.js';
import { judgeRun } from '../../kinds/index.js';
import type { Expectation, RunDocument } from '../../model/run-document.js';
import { EnvironmentError, UsageError } from '../../errors.js';
import { answersAlready, checkCommand, parseTarget } from '../preflight.js';

export interface DrainOptions {
  url?: string;
  /** A health endpoint for readiness, when not --url. */
  readyUrl?: string;
  signal: NodeJS.Signals;
  /** Where the signal goes (default: the program). */
  signalTo?: 'program' | 'group' | 'tree';
  /** GET (default) or POST for every request. */
  method?: 'GET' | 'POST';
  lag: number;
  grace: number;
  requests: number;
  concurrency: number;
  seed: number;
  readyTimeout: number;
}

export const DRAIN_DEFAULTS = { lag: 0, grace: 5000, requests: 20_000, concurrency: 30, seed: 1, readyTimeout: 10_000 } as const;

/** Warm-up before the signal: at least this long, then up to DRAIN_JITTER_MS more (seeded). */
const WARMUP_MS = 1000;
const JITTER_MS = 300;

/** Fewest requests a drain run needs to tell anything (capped by --requests). */
const MIN_REQUESTS = 100;

export interface DrainCommandHooks {
  probe?: FdProbe;
  abort?: AbortSignal;
  onChild?: (child: LaunchedChild) => void;
}

/** What any server must show: not one request lost, and an exit by itself within the grace period; a run that could not tell is inconclusive. */
export function drainCommandExpectation(requests: number): Expectation {
  return {
    shows: 'not one request lost, an exit by itself',
    fdsPerReload: 0,
    maxGrowth: 0,
    registerFailure: 'forbidden',
    flatMetrics: [],
    growingMetrics: [],
    allReloads: false,
    earlyIsInconclusive: true,
    drain: { losses: 'none', minRequests: Math.min(MIN_REQUESTS, requests), exit: 'self' },
  };
}

export { parseTarget } from '../preflight.js';

export async function drainCommand(command: string[], options: DrainOptions, hooks: DrainCommandHooks = {}): Promise<RunDocument> {
  const target = parseTarget(options.url);
  const ready = options.readyUrl === undefined ? undefined : parseTarget(options.readyUrl, '--ready-url');
  if (command.length === 0) throw new UsageError('drain needs the server command after --, e.g. repro drain --url http://127.0.0.1:8080/ -- python3 -m http.server 8080 --bind 127.0.0.1');
  checkCommand(command);
  if (await answersAlready(target.host, target.port)) {
    throw new UsageError(`--url ${target.url}: something already listens on ${target.host}:${target.port} before the server started; stop it or give the server another port`);
  }
  let child: LaunchedChild | undefined;
  let run;
  try {
    run = await runDrain(
      {
        scenario: 'drain',
        role: 'drain',
        roleKind: 'watch',
        runtime: '-',
        options: {},
        url: target.url,
        ...(ready ? { readyUrl: ready.url } : {}),
        load: {
          command,
          // Without the keeper (no C compiler to build it) the server runs as a plain child in its own group.
          ...(keeperUnavailable() === undefined ? { keeper: { graceMs: options.grace } } : {}),
          readyTimeoutMs: options.readyTimeout,
          target: { host: target.host, port: target.port },
          ...(ready ? { readyTarget: { host: ready.host, port: ready.port, path: ready.path } } : {}),
          signal: options.signal,
          ...(options.signalTo ? { signalTo: options.signalTo } : {}),
          warmupMs: WARMUP_MS,
          signalJitterMs: JITTER_MS,
          seed: options.seed,
          lagMs: options.lag,
          graceMs: options.grace,
          load: {
            concurrency: options.concurrency,
            maxRequests: options.requests,
            workMs: [0, 0],
            longMs: 0,
            thinkMs: 10,
            requestTimeoutMs: 5000,
            readinessEveryMs: 10,
            afterExitProbes: 3,
            // A careful client's load: kept-alive and one-shot requests, and idle kept-alive connections (as a pool holds them); no scenario-only POST mix.
            kinds: ['fresh', 'keepalive', 'keepalive', 'fresh', 'keepalive', 'idle'],
            method: options.method ?? 'GET',
            paths: { work: () => target.path, stream: () => target.path, ready: ready?.path ?? target.path },
          },
        },
      },
      {
        probe: hooks.probe ?? defaultProbe(),
        abort: hooks.abort,
        onChild: (started) => {
          child = started;
          hooks.onChild?.(started);
        },
      },
    );
  } catch (error) {
    if (error instanceof ProbeError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  }
  // A program that never ran is not a server that could not be judged (4): the machine could not run it (3).
  const cannotRun = run.drain?.port === null || run.end.reason !== 'shutdown-done' ? child?.execFailure() : undefined;
  if (cannotRun) throw new EnvironmentError(`${cannotRun}; check the program after --`);
  return judgeRun(run, drainCommandExpectation(options.requests), 'drain');
}

