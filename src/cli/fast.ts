/**
 * The start-up fast path: the three commands people run most often one-shot
 * (`repro --version`, `repro list`, `repro probe PID`) in their plainest
 * form, run without loading commander or the option table. Anything else
 * (any other flag, help, a malformed pid) returns undefined and goes through
 * the full CLI (main.ts), which gives the same output for these forms; a test
 * checks the two agree. Measured: the full CLI's static imports cost about
 * 40 ms of start-up on this machine class, more than the probe's own work.
 * This module imports nothing heavy itself; list and probe are modules of
 * their own (fast-list.ts, fast-probe.ts), each bundled as one file, so
 * `--version` loads neither and a probe does not load list's runtimes
 * (node:child_process, node:crypto). Each of those catches its own failures:
 * its copy of errors.ts is not this one's, so `instanceof ReproError` only
 * holds inside the file that threw.
 */
import { ExitCode } from '../errors.js';
import { writeStdoutSync } from './stdout.js';
import { VERSION } from './version.js';

/** Largest pid Linux hands out (PID_MAX_LIMIT); main.ts's `<pid>` parser takes the same range. */
const PID_MAX = 2 ** 22;

/** A plain decimal pid in range, as the full CLI would take it; anything else is the full CLI's to judge. */
function plainPid(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9][0-9]{0,6}$/.test(text)) return undefined;
  const pid = Number(text);
  return pid <= PID_MAX ? pid : undefined;
}

/** A fast command: its exit code, or undefined when it finds the full CLI must run it after all. */
type Fast = () => Promise<number | undefined>;

/** The fast form of argv, or undefined when the full CLI must parse it. */
function fastCommand(argv: readonly string[]): Fast | undefined {
  const [first, second, ...rest] = argv;
  if (argv.length === 1 && (first === '--version' || first === '-V')) {
    return async () => writeStdoutSync(`${VERSION}\n`) ?? ExitCode.OK;
  }
  const json = second === '--json' && rest.length === 0;
  if (first === 'list' && (second === undefined || json)) return async () => (await import('./fast-list.js')).runList(json);
  const pid = first === 'probe' ? plainPid(second) : undefined;
  const probeJson = rest.length === 1 && rest[0] === '--json';
  if (pid !== undefined && (rest.length === 0 || probeJson)) return async () => (await import('./fast-probe.js')).runProbe(pid, probeJson);
  return undefined;
}

/** Runs argv on the fast path and resolves to its exit code, or to undefined when the full CLI must run it (nothing written then). */
export async function runFast(argv: readonly string[]): Promise<number | undefined> {
  const command = fastCommand(argv);
  if (command === undefined) return undefined;
  return await command();
}
