/**
 * A closed stdout (`repro compare --json | head -1`): once the reader has gone
 * (EPIPE), repro stops writing to stdout quietly and exits with the run's own
 * code, so the children are torn down as usual, every report file is still
 * written, and a CI gate under `set -o pipefail` still sees the verdict. Any
 * other stdout failure (a full disk behind `> file`) is one line on stderr and
 * exit 3.
 */
import { fstatSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ExitCode } from '../errors.js';

const nodeRequire = createRequire(import.meta.url);

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

/** A synchronous pause for a non-blocking stdout that is full (EAGAIN). */
function pauseMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The start-up fast path's stdout: write(2) on fd 1, without process.stdout,
 * whose stream costs about 6 ms of CPU to set up (measured, `node -e` writing
 * one line either way). The same contract as guardStdout: a reader that has
 * gone (EPIPE) ends the writing quietly; any other failure is one line on
 * stderr and exit 3. Returns the exit code a failure sets, else undefined.
 */
export function writeStdoutSync(text: string, fd = 1): number | undefined {
  const data = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset, data.length - offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A stdout inherited non-blocking (a pipe set O_NONBLOCK by its other end): wait for room.
      if (code === 'EAGAIN') {
        pauseMs(1);
        continue;
      }
      if (code === 'EPIPE') return undefined;
      process.stderr.write(`repro: cannot write to stdout (${code ?? (error as Error).message}); the run itself is unaffected\n`);
      return ExitCode.ENVIRONMENT;
    }
  }
  return undefined;
}

/**
 * Whether fd 1 is a terminal, without process.stdout: anything but a
 * character device is not (a pipe, a file), nor is /dev/null, and only
 * another character device loads node:tty to ask isatty() (node:tty costs
 * about 30 more built-in modules: net, streams).
 */
export function stdoutIsTerminal(fd = 1): boolean {
  try {
    const out = fstatSync(fd);
    if (!out.isCharacterDevice()) return false;
    // /dev/null (what `> /dev/null` and a spawner's 'ignore' give) is a character device too, and never a terminal.
    if (out.rdev === statSync('/dev/null').rdev) return false;
  } catch {
    return false;
  }
  return (nodeRequire('node:tty') as typeof import('node:tty')).isatty(fd);
}
