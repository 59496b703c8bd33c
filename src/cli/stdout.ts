/**
 * A closed stdout (`repro compare --json | head -1`): once the reader has gone
 * (EPIPE), repro stops writing to stdout quietly and exits with the run's own
 * code, so the children are torn down as usual, every report file is still
 * written, and a CI gate under `set -o pipefail` still sees the verdict. Any
 * other stdout failure (a full disk behind `> file`) is one line on stderr and
 * exit 3.
 */
import { ExitCode } from '../errors.js';

/**
 * Marks a guarded stream on the stream itself, not in a module-level set: the start-up fast path
 * (fast.ts) and the full CLI (main.ts) are bundled apart, each with its own copy of this module,
 * and a probe the fast path hands back to the full CLI must not get two handlers (two lines).
 */
const GUARDED = Symbol.for('repro.stdout-guarded');

/** Installs the handling on stdout; safe to call more than once. */
export function guardStdout(stream: NodeJS.WriteStream = process.stdout): void {
  const marked = stream as NodeJS.WriteStream & { [GUARDED]?: true };
  if (marked[GUARDED]) return;
  marked[GUARDED] = true;
  let failed: string | undefined;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // Node ignores SIGPIPE, so a closed reader shows up here as EPIPE; later writes to the destroyed stream are dropped.
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    if (failed !== undefined) return;
    failed = error.code ?? error.message;
    process.stderr.write(`repro: cannot write to stdout (${failed}); the run itself is unaffected\n`);
  });
  process.once('exit', () => {
    if (failed !== undefined) process.exitCode = ExitCode.ENVIRONMENT;
  });
}
