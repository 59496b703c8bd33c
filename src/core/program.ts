/**
 * Following the program a run is about when it was launched under the
 * keeper (tree/keeper.ts): the launched pid is the keeper's, the program's
 * comes from the keeper's report, and a program that exits leaving a process
 * behind has daemonized: signals go to what it left, as a service manager
 * sends them to a daemon. The watch driver and the load driver both follow
 * a program this way.
 */
import type { LaunchedChild } from '../harness/launch.js';
import { programPidOf } from '../harness/tree/keeper.js';

/** The keeper's `program PID` line, or undefined after `timeoutMs` or an abort (the timer never outlives the wait). */
export async function programStarted(program: Promise<number | undefined> | undefined, timeoutMs: number, abort: AbortSignal | undefined): Promise<number | undefined> {
  if (!program) return undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const giveUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    onAbort = () => resolve(undefined);
    abort?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([program, giveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) abort?.removeEventListener('abort', onAbort);
  }
}

/** A program under the keeper that has exited: how, and the process it left running (undefined: it left none). */
export interface ProgramLeft {
  /** How the program itself ended (the keeper reaped it). */
  exit: { exitCode: number | null; signal: string | null };
  /** The process it left under the keeper (the keeper's oldest child now): the daemon. */
  daemon: number | undefined;
}

/** Undefined while the program runs (or when it was not launched under the keeper); once it exited, what it left. */
export function programLeft(child: LaunchedChild | undefined): ProgramLeft | undefined {
  const exit = child?.tree?.programExit();
  if (!child || !exit) return undefined;
  return { exit, daemon: programPidOf(child.pid) };
}
