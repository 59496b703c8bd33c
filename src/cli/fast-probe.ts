/** `repro probe PID` and `repro probe PID --json` on the start-up fast path (fast.ts). */
import { ExitCode } from '../errors.js';
import { hasProcfs, ProcfsProbe } from '../proc/procfs-probe.js';
import { formatProbe } from '../report/probe-view.js';
import { probeOnce } from './commands/probe.js';
import { useColor } from './color.js';
import { reportFailure } from './failure.js';
import { stdoutIsTerminal, writeStdoutSync } from './stdout.js';

/** Resolves to undefined where there is no procfs: the lsof back end is the full CLI's (workingProbe). */
export async function runProbe(pid: number, json: boolean): Promise<number | undefined> {
  if (!hasProcfs()) return undefined;
  try {
    const snapshot = await probeOnce(pid, new ProcfsProbe());
    return writeStdoutSync(json ? `${JSON.stringify(snapshot, null, 2)}\n` : `${formatProbe(snapshot, { color: useColor(process.env, { isTTY: stdoutIsTerminal() }) })}\n`) ?? ExitCode.OK;
  } catch (error) {
    return reportFailure(error);
  }
}
