/** `repro list`: the scenarios, their roles, the runtimes each can run in (and whether here), and what each shows. */
import { SCENARIOS } from '../../scenarios/index.js';
import { type CatalogScenario, type ListedScenario, withAvailability } from './list-format.js';

export { formatList, type CatalogScenario, type ListedScenario } from './list-format.js';

/** What the registry says of each scenario, nothing read from this machine: the build writes it to dist/bundle/catalog.json. */
export function scenarioCatalog(): CatalogScenario[] {
  return SCENARIOS.map((s) => ({
    name: s.name,
    summary: s.summary,
    signal: s.signal,
    roles: s.roles.map((r) => ({ name: r.name, kind: r.kind, summary: r.summary, runtimes: [...(r.runtimes ?? s.runtimes)] })),
    runtimes: [...s.runtimes],
    options: s.options.map((o) => ({ flag: o.flag.split(' ')[0] as string, choices: o.choices, default: o.default })),
    metrics: s.metrics.map(({ id, label, unit }) => ({ id, label, unit })),
    driver: s.driver ?? 'reload-loop',
    ...(s.trial ? { outcomes: Object.keys(s.trial.outcomes) } : {}),
  }));
}

export function listScenarios(): ListedScenario[] {
  return withAvailability(scenarioCatalog());
}
