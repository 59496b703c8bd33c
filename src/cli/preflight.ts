/**
 * Checks and plan figures more than one command needs before it starts
 * anything, kept here so that commands never import from each other.
 */
import { statSync } from 'node:fs';
import { ProbeError } from '../fdprobe/errors.js';
import { findOnPath, isExecutableFile } from '../util/find-executable.js';
import { EnvironmentError, UsageError } from '../errors.js';

/** Under --attribute the start-up wait (--ready-timeout) is this many times longer. */
export const ATTRIBUTE_START_FACTOR = 6;

/**
 * The start-up wait for a run: strace -k unwinds a stack at every traced call,
 * so a runtime's start-up (hundreds of opens) is many times slower under it.
 */
export function startWaitMs(readyTimeoutMs: number, traced: boolean): number {
  return traced ? readyTimeoutMs * ATTRIBUTE_START_FACTOR : readyTimeoutMs;
}

/** The program must exist before we spawn it: a clear usage error beats a shell's exit 127. */
export function checkCommand(command: readonly string[]): void {
  const [program] = command;
  if (!program) throw new UsageError('repro watch needs a command after --, or --pid PID');
  if (program.includes('/')) {
    if (isExecutableFile(program)) return;
    const mode = fileMode(program);
    // There is a file, it just cannot run: that is the machine's state (exit 3), as the exit code table says, not a typo.
    if (mode !== undefined) throw new EnvironmentError(`cannot execute ${program}: it is not executable (mode ${mode.toString(8)}); chmod +x it, or put its interpreter first (e.g. -- sh ${program})`);
    throw new UsageError(`command not found: ${program} (no executable file there); check the path after --`);
  }
  if (!findOnPath(program)) throw new UsageError(`command not found: ${program} (not on PATH); give its full path after --`);
}

/** The permission bits of a regular file, or undefined when there is no regular file at `path`. */
function fileMode(path: string): number | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat.mode & 0o777 : undefined;
  } catch {
    return undefined;
  }
}

/** A probe failure on `pid` as the user meets it: a process that is gone is a usage error (2), anything else the machine's (3). */
export function translateProbeError(error: unknown, pid: number): never {
  if (error instanceof ProbeError) {
    if (error.failure === 'gone') throw new UsageError(`no such process: ${pid}; check the pid (e.g. with pgrep)`, { cause: error });
    throw new EnvironmentError(error.message, { cause: error });
  }
  throw error;
}
