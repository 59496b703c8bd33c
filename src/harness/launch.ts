/**
 * Starts a child in its own process group under a lowered RLIMIT_NOFILE, with
 * a parent-death signal where the system has one, and tears it down again.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { execa, type ResultPromise } from 'execa';
import type { ChildExit } from '../model/run-document.js';
import { findOnPath } from '../util/find-executable.js';
import { ChildOutput, WaitError } from './child-output.js';
import { endEscaped, type Escaped, holdSubreaper } from './tree/containment.js';
import { KEEPER_SIGNALS, keeperArgv } from './tree/keeper.js';
import { descendants } from './tree/tree.js';

/** sh exits with this when `ulimit -n` itself fails. */
export const ULIMIT_FAILED_EXIT = 125;

let setprivPath: string | null | undefined;
function setpriv(): string | null {
  if (setprivPath === undefined) setprivPath = process.platform === 'linux' ? (findOnPath('setpriv') ?? null) : null;
  return setprivPath;
}

/**
 * The argv that runs `command` with soft and hard RLIMIT_NOFILE at `ulimit`.
 * Both must drop: Node (and others) raise their soft limit to the hard one at
 * start-up, so lowering only the soft limit does nothing to a Node child.
 * setpriv --pdeathsig KILL makes the kernel kill the child if the harness dies
 * without a chance to clean up (SIGKILL).
 */
export function launchArgv(command: readonly string[], ulimit: number | undefined): string[] {
  const pdeath = setpriv();
  const inner = pdeath ? [pdeath, '--pdeathsig', 'KILL', '--', ...command] : [...command];
  if (ulimit === undefined) return inner;
  return ['/bin/sh', '-c', `ulimit -n "$1" || exit ${ULIMIT_FAILED_EXIT}; shift; exec "$@"`, LAUNCHER_NAME, String(ulimit), ...inner];
}

/** The launcher shell's $0, so that its own messages can be told from the program's. */
const LAUNCHER_NAME = 'repro-launch';

/** What setpriv and the launcher shell print when their exec of the program fails (the rest is "PROGRAM: reason"). */
const EXEC_FAILED_LINE = new RegExp(`^(?:setpriv: failed to execute |repro-keeper: cannot run |${LAUNCHER_NAME}: (?:line )?\\d+: (?:exec: )?)(.+)$`, 'm');

/**
 * Why the program could not be executed at all, in one line that names it, or
 * undefined when it ran. A launcher whose exec fails exits 127 (not found) or
 * 126 (cannot execute) and says so on stderr in its own words; a program that
 * ran and exited 127 says something else, so both must match.
 */
export function execFailure(
  program: string,
  how: { exitCode: number | null; spawnError?: string },
  stderr: string,
): string | undefined {
  if (how.spawnError) return `cannot execute ${program}: ${errnoWords(how.spawnError)}${interpreterNote(program)}`;
  if (how.exitCode !== 126 && how.exitCode !== 127) return undefined;
  const said = EXEC_FAILED_LINE.exec(stderr)?.[1];
  if (!said?.startsWith(`${program}: `)) return undefined;
  return `cannot execute ${program}: ${said.slice(program.length + 2)}${interpreterNote(program)}`;
}

/** `ENOENT` → `no such file or directory (ENOENT)`; anything else as it is. */
function errnoWords(code: string): string {
  for (const [name, message] of getSystemErrorMap().values()) if (name === code) return `${message} (${code})`;
  return code;
}

/** A script whose #! interpreter is missing fails with ENOENT as if the script itself were: say which. */
function interpreterNote(program: string): string {
  let head: string;
  try {
    const fd = openSync(program, 'r');
    try {
      const buffer = Buffer.alloc(256);
      head = buffer.subarray(0, readSync(fd, buffer)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
  const interpreter = /^#!\s*(\S+)/.exec(head)?.[1];
  if (!interpreter || existsSync(interpreter)) return '';
  return ` (its #! line names ${interpreter}, which does not exist)`;
}

export interface LaunchOptions {
  command: readonly string[];
  ulimit?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Bytes of non-protocol stdout and of stderr to keep. */
  maxKeptBytes?: number;
  /**
   * Start the program under the process-tree keeper (tree/keeper.ts): the
   * launched pid is the keeper's, the program's pid comes from the keeper's
   * `program PID` line on fd 3, and stop() ends the whole tree through the
   * keeper. `graceMs` is the keeper's own SIGTERM → SIGKILL grace.
   */
  keeper?: { graceMs: number };
}

/** What the keeper tells about the tree it started (launched with `keeper`). */
export interface KeptTree {
  /** The program's pid, from the keeper's `program PID` line; undefined when the keeper ended before it forked. */
  program: Promise<number | undefined>;
  /** How the program itself ended, once the keeper reaped it (a daemon it left may live on). */
  programExit(): { exitCode: number | null; signal: string | null } | undefined;
  /**
   * Settles once the keeper is gone and what escaped it is ended: the
   * processes of the tree that outlived a keeper killed under them (repro,
   * their subreaper, killed them; see tree/containment.ts). Empty as a rule.
   */
  escaped: Promise<Escaped[]>;
}

export interface LaunchedChild {
  pid: number;
  output: ChildOutput;
  /** Settles when the child has exited (never rejects). */
  exited: Promise<{ exitCode: number | null; signal: string | null; spawnError?: string }>;
  isRunning(): boolean;
  /** Sends a signal to the child itself (not its group). */
  signal(sig: NodeJS.Signals): boolean;
  /** SIGTERM (and SIGCONT) the group, wait `graceMs`, then SIGKILL it; idempotent. */
  stop(graceMs: number): Promise<ChildExit>;
  /** SIGKILL the whole group now (second Ctrl-C). */
  killNow(): void;
  /** Once it has exited: why the program could not be executed at all, or undefined when it ran (see execFailure). */
  execFailure(): string | undefined;
  /** Launched under the keeper: the program it started and how that ended. */
  tree?: KeptTree;
}

/** How a child ended, in words every view uses: `could not start: ENOENT`, `killed by SIGHUP`, `exited with code 3`. */
export function exitSentence(how: { exitCode: number | null; signal: string | null; spawnError?: string }): string {
  return how.spawnError ? `could not start: ${how.spawnError}` : how.signal ? `killed by ${how.signal}` : `exited with code ${how.exitCode}`;
}

/** While a stopping child has its grace period, it is sent SIGCONT this often (see stop). */
const RESUME_EVERY_MS = 50;

function drained(subprocess: ResultPromise, capMs: number): Promise<void> {
  const ends = [subprocess.stdout, subprocess.stderr].map(
    (stream) => new Promise<void>((resolve) => (!stream || stream.readableEnded || stream.destroyed ? resolve() : stream.once('close', () => resolve()))),
  );
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, capMs);
  });
  return Promise.race([Promise.all(ends).then(() => undefined), cap]).finally(() => clearTimeout(timer));
}

/** Spawns the child. Throws if it could not even be started (no pid). */
export function launchChild(options: LaunchOptions): LaunchedChild {
  const keeper = options.keeper;
  const [file, ...args] = launchArgv(keeper ? keeperArgv(options.command, { graceMs: keeper.graceMs }) : options.command, options.ulimit);
  const output = new ChildOutput(options.maxKeptBytes);
  // Before the keeper starts: a program that kills its keeper leaves its orphans to repro, not to init.
  const subreaper = keeper ? holdSubreaper() : undefined;
  const subprocess: ResultPromise = execa(file as string, args, {
    detached: true,
    // Under the keeper, fd 3 is its report channel (and its end of file, when repro dies, kills the tree).
    stdio: keeper ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
    cleanup: false,
    env: options.env,
    cwd: options.cwd,
    extendEnv: true,
  });
  subprocess.stdout?.setEncoding('utf8');
  subprocess.stderr?.setEncoding('utf8');
  subprocess.stdout?.on('data', (chunk: string) => output.feedStdout(chunk));
  subprocess.stderr?.on('data', (chunk: string) => output.feedStderr(chunk));
  // The child may exit before reading stdin, or we may close it: EPIPE there is expected.
  subprocess.stdin?.on('error', () => {});

  let running = subprocess.pid !== undefined;
  let ended: { exitCode: number | null; signal: string | null; spawnError?: string } | undefined;
  const exited = new Promise<{ exitCode: number | null; signal: string | null; spawnError?: string }>((resolve) => {
    subprocess.once('exit', (code, sig) => {
      running = false;
      ended ??= { exitCode: code, signal: sig };
      resolve(ended);
    });
    subprocess.once('error', (error: NodeJS.ErrnoException) => {
      running = false;
      ended ??= { exitCode: null, signal: null, spawnError: error.code ?? error.message };
      resolve(ended);
    });
  });
  // Swallow execa's own result; we read exit through the events above.
  subprocess.catch(() => {});

  void exited.then(async (how) => {
    // Let the last lines through the pipe before waits are failed.
    await new Promise((r) => setTimeout(r, 20));
    output.close(new WaitError('exited', 'exit', `child ${exitSentence(how)}`));
  });

  const pid = subprocess.pid ?? -1;
  const killGroup = (sig: NodeJS.Signals) => {
    if (pid <= 0) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // ESRCH: nothing of the group is left
    }
  };

  let programPid: number | undefined;
  const tree = keeper ? keptTree(subprocess, exited, () => (pid > 0 ? endEscaped(pid, programPid) : Promise.resolve([])), subreaper) : undefined;
  void tree?.program.then((p) => (programPid = p));
  const signalKeeper = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  };

  let stopping: Promise<ChildExit> | undefined;
  return {
    pid,
    output,
    exited,
    tree,
    isRunning: () => running,
    signal(sig) {
      if (!running) return false;
      try {
        // Under the keeper, a signal meant for the child goes to the program (the keeper takes HUP as "stop the tree").
        return process.kill(tree ? (programPid ?? -1) : pid, sig);
      } catch {
        return false;
      }
    },
    killNow() {
      if (keeper) {
        // The keeper kills the tree on SIGUSR1; it must live to do it, so its group is not SIGKILLed here
        // (a SIGKILL that beat the SIGUSR1 left a program that ignores SIGTERM running, re-parented to
        // init). Every process below it gets SIGKILL from here too, and the keeper, alone, exits.
        signalKeeper(KEEPER_SIGNALS.killTreeNow);
        signalBelow(pid, 'SIGKILL');
        return;
      }
      killGroup('SIGKILL');
    },
    execFailure() {
      return ended ? execFailure(options.command[0] ?? '', ended, output.stderr.view().text) : undefined;
    },
    stop(graceMs) {
      stopping ??= stopChild({ subprocess, exited, running: () => running, keeper: keeper !== undefined, pid, killGroup, signalKeeper, escaped: tree?.escaped }, graceMs);
      return stopping;
    },
  };
}

/** What stopping a launched child needs of it. */
interface Stopping {
  subprocess: ResultPromise;
  exited: Promise<{ exitCode: number | null; signal: string | null }>;
  running: () => boolean;
  /** Launched under the keeper: the tree is ended through it. */
  keeper: boolean;
  pid: number;
  killGroup: (sig: NodeJS.Signals) => void;
  signalKeeper: (sig: NodeJS.Signals) => void;
  /** Under the keeper: settles once what escaped it is ended. */
  escaped?: Promise<unknown>;
}

/** LaunchedChild.stop: SIGTERM (and SIGCONT), the grace period, SIGKILL; then the pipes are read out and closed. */
async function stopChild(child: Stopping, graceMs: number): Promise<ChildExit> {
  const { subprocess, exited, killGroup } = child;
  const started = performance.now();
  let forced = false;
  // stdin stays open until the child is gone: the bundled children leave at once on its EOF (the
  // harness-died path), and closing it first would race their SIGTERM shutdown.
  if (child.running() && child.keeper) {
    forced = await stopTree(child.pid, exited, graceMs, child.signalKeeper);
  } else if (child.running()) {
    killGroup('SIGTERM');
    // A stopped process (state T) holds SIGTERM pending until it runs again: let it act on it (as systemd does).
    // Again through the grace period: one that stops itself after the first SIGCONT (a child that raises
    // SIGSTOP at a phase marker, its SIGTERM read from a signalfd only once it runs) would otherwise sit
    // stopped until SIGKILL.
    killGroup('SIGCONT');
    const resume = setInterval(() => killGroup('SIGCONT'), RESUME_EVERY_MS);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const first = await Promise.race([exited, graceOver]);
    clearTimeout(timer);
    clearInterval(resume);
    if (first === 'timeout') {
      forced = true;
      killGroup('SIGKILL');
    }
  }
  const how = await exited;
  // Whatever else is in the group (grandchildren that ignored SIGTERM) goes too.
  killGroup('SIGKILL');
  await child.escaped;
  subprocess.stdin?.destroy();
  // Read what is still in the pipes (a last `shutdown` line), but never wait on a pipe a stray holds open.
  await drained(subprocess, 250);
  subprocess.stdout?.destroy();
  subprocess.stderr?.destroy();
  (subprocess.stdio as unknown as ({ destroy(): void } | null | undefined)[])[3]?.destroy();
  return { exitCode: how.exitCode, signal: how.signal, forced, teardownMs: Math.round(performance.now() - started) };
}

/** Sends `sig` to every process below `rootPid` (not to it); one that is gone meanwhile is skipped. */
function signalBelow(rootPid: number, sig: NodeJS.Signals): void {
  for (const p of descendants(rootPid, { includeRoot: false })) {
    try {
      process.kill(p.pid, sig);
    } catch {
      // gone
    }
  }
}

/**
 * Ends a tree through its keeper: SIGTERM to the keeper (it sends SIGTERM to
 * every process of the tree and SIGKILL after its grace), SIGCONT to every
 * process (a stopped one holds SIGTERM pending until it runs), and when the
 * keeper is still there after the grace (and a margin), SIGUSR1 (kill the
 * tree now), then SIGKILL. Resolves to whether it was forced: the tree was
 * still running when the grace ran out.
 */
async function stopTree(keeperPid: number, exited: Promise<unknown>, graceMs: number, signalKeeper: (sig: NodeJS.Signals) => void): Promise<boolean> {
  const started = performance.now();
  signalKeeper(KEEPER_SIGNALS.stopGracefully);
  signalBelow(keeperPid, 'SIGCONT');
  const within = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const over = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), ms);
    });
    const first = await Promise.race([exited.then(() => 'exited' as const), over]);
    clearTimeout(timer);
    return first === 'exited';
  };
  if (!(await within(graceMs + 500))) {
    signalKeeper(KEEPER_SIGNALS.killTreeNow);
    if (!(await within(1000))) signalKeeper('SIGKILL');
    return true;
  }
  // The keeper SIGKILLs what is left when its grace runs out: then it took (about) the whole grace.
  return graceMs > 0 && performance.now() - started >= graceMs;
}

/** Reads the keeper's report lines on fd 3: `program PID`, then `exit PID code N` / `exit PID signal N` per child it reaps. */
function keptTree(subprocess: ResultPromise, exited: Promise<unknown>, endEscapedOnes: () => Promise<Escaped[]>, subreaper: { release: () => void } | undefined): KeptTree {
  const channel = (subprocess.stdio as unknown as (NodeJS.ReadableStream | null | undefined)[])[3] ?? undefined;
  let program: number | undefined;
  let programExit: { exitCode: number | null; signal: string | null } | undefined;
  let resolveProgram: (pid: number | undefined) => void = () => {};
  const programPromise = new Promise<number | undefined>((r) => (resolveProgram = r));
  void exited.then(() => setTimeout(() => resolveProgram(program), 50));
  let pending = '';
  channel?.setEncoding('utf8');
  channel?.on('error', () => {});
  channel?.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const started = /^program (\d+)$/.exec(line);
      if (started) {
        program = Number(started[1]);
        resolveProgram(program);
        continue;
      }
      const ended = /^exit (\d+) (code|signal) (\d+)$/.exec(line);
      if (ended && Number(ended[1]) === program) {
        programExit = ended[2] === 'code' ? { exitCode: Number(ended[3]), signal: null } : { exitCode: null, signal: signalNameOf(Number(ended[3])) };
      }
    }
  });
  // Once the keeper is gone, whatever outlived it (re-parented to repro, the subreaper above it) is ended at once.
  const escaped = exited.then(endEscapedOnes).catch(() => [] as Escaped[]).finally(() => subreaper?.release());
  return { program: programPromise, programExit: () => programExit, escaped };
}

function signalNameOf(signo: number): string {
  for (const [name, n] of Object.entries(osConstants.signals)) if (n === signo) return name;
  return `signal ${signo}`;
}
