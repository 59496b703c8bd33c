/**
 * The keeper: a tiny C process between repro and the watched program that is
 * the tree's subreaper and its ancestor, reaps every orphan, and kills the
 * whole tree when repro dies (see keeper-source.ts for its contract).
 *
 * Why not make repro itself the subreaper: an orphan re-parented to a Node
 * process stays a zombie until Node exits (libuv waits only for the pids it
 * spawned; measured with a double-forked `sleep`), and after SIGKILL of repro
 * nothing would be left to kill the daemons, which re-parent to init.
 *
 * The binary is compiled with `cc` (or $CC) on first use into
 * ~/.cache/repro (or $XDG_CACHE_HOME/repro), named by a hash of the source,
 * and reused afterwards (about 150 ms once; 0 after).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../../errors.js';
import { findOnPath } from '../../util/find-executable.js';
import { KEEPER_SOURCE } from './keeper-source.js';
import { descendants } from './tree.js';

/** Signals the keeper understands (send them to the keeper's pid, not the group). */
export const KEEPER_SIGNALS = {
  /** SIGTERM to every descendant, SIGKILL to what is left after the grace period, then the keeper exits. */
  stopGracefully: 'SIGTERM',
  /** SIGKILL to every descendant now, until none is left; then the keeper exits. Also its parent-death signal. */
  killTreeNow: 'SIGUSR1',
} as const satisfies Record<string, NodeJS.Signals>;

/** The keeper exits with this when it could not start the program (no subreaper, fork failed, parent already gone). */
export const KEEPER_FAILED_EXIT = 125;

let cached: string | undefined;

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : join(tmpdir(), `repro-${process.getuid?.() ?? 'user'}`));
  return join(base, 'repro');
}

/**
 * A name for this source's build (FNV-1a, two 32-bit lanes): a cache key, not
 * a checksum anyone trusts, so node:crypto (about 20 built-in modules) is not
 * loaded by every command that launches a child.
 */
export function sourceHash(source: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b ^ (b >>> 13)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/**
 * Path of the compiled keeper, compiling it on first use. Throws
 * EnvironmentError (one line, the reason and the fix) when this is not Linux
 * or no C compiler is found or the compile fails.
 */
export function keeperBinary(): string {
  if (cached && existsSync(cached)) return cached;
  if (process.platform !== 'linux') throw new EnvironmentError('the process-tree keeper needs Linux (prctl PR_SET_CHILD_SUBREAPER)');
  const hash = sourceHash(KEEPER_SOURCE);
  const dir = cacheDir();
  const binary = join(dir, `keeper-${hash}`);
  if (existsSync(binary) && statSync(binary).mode & 0o100) return (cached = binary);
  const cc = process.env.CC || findOnPath('cc') || findOnPath('gcc') || findOnPath('clang');
  if (!cc) throw new EnvironmentError('the process-tree keeper is compiled on first use and no C compiler was found: install one (apt-get install gcc) or set CC');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${binary}.${process.pid}.tmp`;
  const source = `${tmp}.c`;
  try {
    writeFileSync(source, KEEPER_SOURCE);
    execFileSync(cc, ['-O2', '-o', tmp, source], { stdio: ['ignore', 'ignore', 'pipe'] });
    chmodSync(tmp, 0o755);
    renameSync(tmp, binary);
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').split('\n')[0];
    throw new EnvironmentError(`cannot compile the process-tree keeper with ${cc}: ${stderr || (error as Error).message}`, { cause: error });
  } finally {
    rmSync(source, { force: true });
    rmSync(tmp, { force: true });
  }
  return (cached = binary);
}

export interface KeeperArgvOptions {
  /** The keeper's expected parent (default: this process): it starts nothing if its parent died before it armed PR_SET_PDEATHSIG. */
  parentPid?: number;
  /** Between SIGTERM and SIGKILL of the tree when the keeper is stopped gracefully (default 2000 ms). */
  graceMs?: number;
  /** The keeper binary (default: keeperBinary()). */
  binary?: string;
}

/**
 * The argv that runs `command` under the keeper. Spawn it as the launcher
 * spawns any child (it may be wrapped in the ulimit shell and setpriv: the
 * keeper overrides setpriv's parent-death signal with its own). The keeper's
 * stdio is the program's; an extra pipe or socket on fd 3 becomes the report
 * channel (`program PID`, `exit PID code N`, `exit PID signal N`, `empty`),
 * and its end of file kills the tree.
 */
export function keeperArgv(command: readonly string[], options: KeeperArgvOptions = {}): string[] {
  return [options.binary ?? keeperBinary(), '--parent', String(options.parentPid ?? process.pid), '--grace-ms', String(options.graceMs ?? 2000), '--', ...command];
}

/** Why the keeper cannot run here (not Linux, no C compiler to build it on first use), or undefined when it can. */
export function keeperUnavailable(): string | undefined {
  try {
    keeperBinary();
    return undefined;
  } catch (error) {
    if (error instanceof EnvironmentError) return error.message;
    throw error;
  }
}

/**
 * The program the keeper started: its oldest child. Undefined until it has
 * forked. Read it right after the start: once the program has exited, a
 * daemon it left behind is the keeper's oldest child. Where there is an fd 3
 * report channel, its `program PID` line is exact.
 */
export function programPidOf(keeperPid: number): number | undefined {
  const children = descendants(keeperPid, { includeRoot: false }).filter((p) => p.ppid === keeperPid);
  children.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
  return children[0]?.pid;
}
