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

/** The exit code, or undefined when there is no catalog and the full CLI must list. */
export function runList(json: boolean): number | undefined {
  const catalog = builtCatalog();
  if (!catalog) return undefined;
  try {
    const list = withAvailability(catalog);
    return writeStdoutSync(json ? `${JSON.stringify(list, null, 2)}\n` : `${formatList(list, useColor(process.env, { isTTY: stdoutIsTerminal() }))}\n`) ?? ExitCode.OK;
  } catch (error) {
    return reportFailure(error);
  }
}
