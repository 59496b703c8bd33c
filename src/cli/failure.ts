/**
 * A failure that reached the top of a command, as one line on stderr and an
 * exit code: said once here for the full CLI (main.ts) and for the start-up
 * fast path (fast.ts), so both end alike.
 */
import { ReproError } from '../errors.js';

/** Exit code of a failure repro did not foresee (EX_SOFTWARE). */
export const INTERNAL_ERROR = 70;

export function reportFailure(error: unknown): number {
  if (error instanceof ReproError) {
    process.stderr.write(`repro: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`repro: internal error: ${message}${process.env.REPRO_DEBUG ? `\n${(error as Error).stack}` : ' (REPRO_DEBUG=1 shows the stack)'}\n`);
  return INTERNAL_ERROR;
}
