/**
 * `repro list` without the scenarios: the shape of a listed scenario, where
 * each runtime can run here, and the text. The scenarios themselves (their
 * children, trial logic and runtimes) are imported only by list.ts, which
 * makes the catalog; the start-up fast path reads the catalog the build
 * wrote (dist/bundle/catalog.json) and imports only this module.
 */
import { fitLine } from '../../report/text.js';
import { RUNTIMES } from '../../runtimes/index.js';

/** One scenario as listed, without where its runtimes can run: what the build writes to the catalog. */
export interface CatalogScenario {
  /** The name given to --scenario. */
  name: string;
  /** One line: what goes wrong and the fix. */
  summary: string;
  /** The signal it is about. */
  signal: string;
  /** Its roles, each with the runtimes it runs in. */
  roles: { name: string; kind: string; summary: string; runtimes: string[] }[];
  /** Its runtimes, the default first. */
  runtimes: string[];
  /** Its own options, with their choices and default. */
  options: { flag: string; choices: readonly string[]; default: string }[];
  /** The metrics it records beyond fds and RSS. */
  metrics: { id: string; label: string; unit: string }[];
  /** How it is driven: reload-loop, rounds, load-and-signal, reload-under-load or trials. */
  driver: string;
  /** trials: the outcome classes a trial can show. */
  outcomes?: string[];
}

/** One scenario as `repro list` shows it: the catalog's entry, with whether each runtime can run here. */
export interface ListedScenario extends Omit<CatalogScenario, 'runtimes'> {
  /** Each runtime, and why it cannot run here when it cannot. */
  runtimes: { name: string; available: boolean; why?: string }[];
}

/** The catalog with each runtime checked on this machine (PATH, Debian's crates), in the catalog's own key order. */
export function withAvailability(catalog: readonly CatalogScenario[]): ListedScenario[] {
  return catalog.map((s) => ({
    name: s.name,
    summary: s.summary,
    signal: s.signal,
    roles: s.roles,
    runtimes: s.runtimes.map((name) => {
      const runtime = RUNTIMES[name];
      const why = runtime ? runtime.unavailable(s.name) : `no runtime named ${name}`;
      return why ? { name, available: false, why } : { name, available: true };
    }),
    options: s.options,
    metrics: s.metrics,
    driver: s.driver,
    ...(s.outcomes ? { outcomes: s.outcomes } : {}),
  }));
}

/** Bold as chalk paints it (SGR 1, closed by 22), without loading chalk on the fast path. */
function bold(text: string, color: boolean): string {
  return color ? `\u001b[1m${text}\u001b[22m` : text;
}

/** The role names' column. */
const NAME_WIDTH = 18;
/** Where a role's text starts (`  ` + the name column + a space): its wrapped lines hang there. */
const ROLE_COLUMN = NAME_WIDTH + 3;

/** `columns`: a terminal's (or COLUMNS) width each line is wrapped to, under its own value column; undefined: lines stay whole (a pipe). */
export function formatList(list: readonly ListedScenario[], color: boolean, columns?: number): string {
  const out: string[] = [];
  // The value wrapped under its own column, the prefix (label, padding) kept as it is.
  const fit = (prefix: string, value: string): string[] => {
    if (columns === undefined) return [`${prefix}${value}`];
    const lines = fitLine(value, Math.max(20, columns - prefix.length), 0);
    return lines.map((l, i) => `${i === 0 ? prefix : ' '.repeat(prefix.length)}${l}`);
  };
  for (const s of list) {
    out.push(`${bold(s.name, color)} (${s.signal})`, ...fit('  ', s.summary));
    const runtimes = s.runtimes.map((r) => (r.available ? r.name : `${r.name} (not here: ${r.why})`));
    out.push(...fit('  runtimes   ', runtimes.join(', ')));
    for (const r of s.roles) {
      const only = r.runtimes.length < s.runtimes.length ? ` [${r.runtimes.join(', ')} only]` : '';
      // On a terminal, a name wider than its column takes a line of its own and the text starts under the others'.
      const own = columns !== undefined && r.name.length > NAME_WIDTH;
      if (own) out.push(`  ${r.name}`);
      out.push(...fit(own ? ' '.repeat(ROLE_COLUMN) : `  ${r.name.padEnd(NAME_WIDTH)} `, `${r.summary}${only}`));
    }
    for (const o of s.options) out.push(...fit('  option     ', `${o.flag} ${o.choices.join('|')} (default ${o.default})`));
    out.push(...fit('  records    ', `${s.driver === 'load-and-signal' ? 'every request (outcome × phase, each loss with its cause), shutdown timings, ' : ''}${s.driver === 'ledger' ? 'every entry handed out (acknowledged, or lost with its cause), how the process ended, ' : ''}${s.outcomes ? `an outcome per trial (${s.outcomes.join(', ')}), ` : ''}fds by kind, RSS${s.metrics.map((m) => `, ${m.label}${m.unit ? ` (${m.unit})` : ''}`).join('')}`));
    const other = s.runtimes[1];
    out.push(`  try        repro compare --scenario ${s.name}${other ? ` --runtime ${other.name}` : ''}`, '');
  }
  return out.join('\n').trimEnd();
}
