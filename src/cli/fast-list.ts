/** `repro list` and `repro list --json` on the start-up fast path (fast.ts). */
import { ExitCode } from '../errors.js';
import { formatList, listScenarios } from './commands/list.js';
import { useColor } from './color.js';
import { reportFailure } from './failure.js';

export function runList(json: boolean): number {
  try {
    const list = listScenarios();
    process.stdout.write(json ? `${JSON.stringify(list, null, 2)}\n` : `${formatList(list, useColor())}\n`);
    return ExitCode.OK;
  } catch (error) {
    return reportFailure(error);
  }
}
