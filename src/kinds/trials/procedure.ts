/**
 * What a trials scenario declares: one trial's procedure (what repro sends
 * the fresh child and how it reads the outcome) and the outcome classes it
 * can name. The trials driver (src/harness/drivers/trials-run.ts) gives the
 * procedure a TrialContext; the procedure reads processes only through it.
 */
import type { ProcessView } from '../../proc/view.js';

/** How a child ended. */
export interface TrialExit {
  /** Exit code, when it exited. */
  exitCode: number | null;
  /** Signal name, when a signal ended it. */
  signal: string | null;
}

/** What a trial's procedure may do to and read of its child. */
export interface TrialContext {
  /** The child's pid, once it said `ready`. */
  pid: number;
  /** 1-based. */
  trial: number;
  /** The process view every rule reads /proc through. */
  view: ProcessView;
  /** Sends signal number `signo` to the child `count` times, as fast as kill() goes (`everyMs` apart when given): the kill() calls that succeeded. */
  burst(signo: number, count: number, everyMs?: number): Promise<number>;
  /** The child's next protocol event named `name` (its fields), or undefined when none came within `timeoutMs` or the child ended. */
  event(name: string, timeoutMs: number): Promise<Record<string, unknown> | undefined>;
  /** How the child ended, once it has. */
  exit(): TrialExit | undefined;
  /** Waits up to `timeoutMs` for the child to end: how, or undefined while it runs. */
  exited(timeoutMs: number): Promise<TrialExit | undefined>;
  sleep(ms: number): Promise<void>;
}

/** What one trial came to. */
export interface TrialOutcome {
  /** One of the procedure's `outcomes`, or `unknown`. */
  outcome: string;
  /** The numbers it was read from. */
  counts: Record<string, number>;
  /** One sentence with those numbers. */
  detail: string;
}

/** A trials scenario's procedure. */
export interface TrialProcedure {
  /** What one trial does, in one sentence (kept in the run's plan). */
  procedure: string;
  /** Each outcome class it can name, with what it means. */
  outcomes: Record<string, string>;
  /** Trials a run makes when --reloads is not given. */
  trialsDefault: number;
  /** One trial on a fresh child that has said `ready`. */
  run(context: TrialContext, role: string, runtime: string): Promise<TrialOutcome>;
}
