/**
 * Checks and plan figures more than one command needs before it starts
 * anything, kept here so that commands never import from each other.
 */
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { isLoopback } from '../harness/load/generator.js';
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
  if (!program) throw new UsageError('watch needs a command after --, or --pid PID');
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

/** The load target from --url (or --ready-url: `flag`): an http URL on a loopback address with a port; anything else is refused. */
export function parseTarget(url: string | undefined, flag = '--url'): { host: string; port: number; path: string; url: string } {
  if (!url) throw new UsageError('drain needs --url http://127.0.0.1:PORT/PATH: where the server answers (readiness and load)');
  return parseUrl(url, flag);
}

function parseUrl(url: string, flag: string): { host: string; port: number; path: string; url: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${flag} ${url} is not a URL; give e.g. --url http://127.0.0.1:8080/`);
  }
  if (parsed.protocol === 'https:') throw new UsageError(`${flag} ${url}: only plain http is loaded (no TLS); give e.g. --url http://127.0.0.1:8080/`);
  if (parsed.protocol !== 'http:') throw new UsageError(`${flag} ${url}: ${parsed.protocol.slice(0, -1)} is not HTTP; the load speaks plain http only, give e.g. --url http://127.0.0.1:8080/`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!isLoopback(host)) throw new UsageError(`${flag} ${url}: the load goes to loopback only (127.0.0.1 or [::1]), not ${parsed.hostname}; run the server on 127.0.0.1`);
  if (parsed.username || parsed.password) throw new UsageError(`${flag} ${url}: leave credentials out of the URL`);
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  // Port 0 asks the kernel for any free port when binding; nothing can be reached there, so the run could only end unready.
  if (port === 0) throw new UsageError(`${flag} ${url}: port 0 is not a port a server can answer on; give the port the server listens on, e.g. --url http://127.0.0.1:8080/`);
  return { host, port, path: `${parsed.pathname || '/'}${parsed.search}`, url: `http://${parsed.host}${parsed.pathname || '/'}${parsed.search}` };
}

/** True when something already accepts connections on host:port (then the load would go to the wrong server). */
export function answersAlready(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (yes: boolean) => {
      socket.destroy();
      resolve(yes);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}
