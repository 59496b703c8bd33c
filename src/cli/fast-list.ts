/**
 * `repro list` and `repro list --json` on the start-up fast path (fast.ts): the
 * catalog the build wrote beside this bundle (scripts/bundle.mjs), so no
 * scenario module is loaded; without it (a broken install), the full CLI lists.
 */
import { readFileSync } from 'node:fs';
import { ExitCode } from '../errors.js';
import { type CatalogScenario, formatList, withAvailability } from './commands/list-format.js';
import { useColor } from './color.js';
import { reportFailure } from './failure.js';
import { stdoutIsTerminal, writeStdoutSync } from './stdout.js';

function builtCatalog(): CatalogScenario[] | undefined {
  try {
    const catalog = JSON.parse(readFileSync(new URL('./catalog.json', import.meta.url), 'utf8')) as unknown;
    return Array.isArray(catalog) ? (catalog as CatalogScenario[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The columns `list` wraps to, as textColumns (context.ts) says: COLUMNS, else
 * a terminal's width (process.stdout only then: its stream costs ~6 ms to set
 * up), at least 40; a pipe keeps lines whole.
 */
function listColumns(terminal: boolean): number | undefined {
  const fromEnv = /^\d+$/.test(process.env.COLUMNS ?? '') ? Number(process.env.COLUMNS) : 0;
  const columns = fromEnv > 0 ? fromEnv : terminal && process.stdout.columns > 0 ? process.stdout.columns : undefined;
  return columns === undefined ? undefined : Math.max(40, columns);
}

/** The exit code, or undefined when there is no catalog and the full CLI must list. */
export function runList(json: boolean): number | undefined {
  const catalog = builtCatalog();
  if (!catalog) return undefined;
  try {
    const list = withAvailability(catalog);
    if (json) return writeStdoutSync(`${JSON.stringify(list, null, 2)}\n`) ?? ExitCode.OK;
    const terminal = stdoutIsTerminal();
    return writeStdoutSync(`${formatList(list, useColor(process.env, { isTTY: terminal }), listColumns(terminal))}\n`) ?? ExitCode.OK;
  } catch (error) {
    return reportFailure(error);
  }
}
