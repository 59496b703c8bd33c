/** `repro list`: the scenarios, their roles, the runtimes each can run in (and whether here), and what each shows. */
import { Chalk } from 'chalk';
import { RUNTIMES } from '../../runtimes/index.js';
import { SCENARIOS } from '../../scenarios/index.js';

export interface ListedScenario {
  name: string;
  summary: string;
  signal: string;
  roles: { name: string; kind: string; summary: string; runtimes: string[] }[];
  runtimes: { name: string; available: boolean; why?: string }[];
  options: { flag: string; choices: readonly string[]; default: string }[];
  metrics: { id: string; label: string; unit: string }[];
  /** How it is driven: reload-loop, rounds, load-and-signal, reload-under-load or trials. */
  driver: string;
  /** trials: the outcome classes a trial can show. */
  outcomes?: string[];
}

export function listScenarios(): ListedScenario[] {
  return SCENARIOS.map((s) => ({
    name: s.name,
    summary: s.summary,
    signal: s.signal,
    roles: s.roles.map((r) => ({ name: r.name, kind: r.kind, summary: r.summary, runtimes: [...(r.runtimes ?? s.runtimes)] })),
    runtimes: s.runtimes.map((name) => {
      const runtime = RUNTIMES[name];
      const why = runtime ? runtime.unavailable(s.name) : `no runtime named ${name}`;
      return why ? { name, available: false, why } : { name, available: true };
    }),
    options: s.options.map((o) => ({ flag: o.flag.split(' ')[0] as string, choices: o.choices, default: o.default })),
    metrics: s.metrics.map(({ id, label, unit }) => ({ id, label, unit })),
    driver: s.driver ?? 'reload-loop',
    ...(s.trial ? { outcomes: Object.keys(s.trial.outcomes) } : {}),
  }));
}

export function formatList(list: readonly ListedScenario[], color: boolean): string {
  const paint = new Chalk({ level: color ? 1 : 0 });
  const out: string[] = [];
  for (const s of list) {
    out.push(`${paint.bold(s.name)} (${s.signal})`, `  ${s.summary}`);
    const runtimes = s.runtimes.map((r) => (r.available ? r.name : `${r.name} (not here: ${r.why})`));
    out.push(`  runtimes   ${runtimes.join(', ')}`);
    for (const r of s.roles) {
      const only = r.runtimes.length < s.runtimes.length ? ` [${r.runtimes.join(', ')} only]` : '';
      out.push(`  ${r.name.padEnd(18)} ${r.summary}${only}`);
    }
    for (const o of s.options) out.push(`  option     ${o.flag} ${o.choices.join('|')} (default ${o.default})`);
    out.push(`  records    ${s.driver === 'load-and-signal' ? 'every request (outcome × phase, each loss with its cause), shutdown timings, ' : ''}${s.driver === 'ledger' ? 'every entry handed out (acknowledged, or lost with its cause), how the process ended, ' : ''}${s.outcomes ? `an outcome per trial (${s.outcomes.join(', ')}), ` : ''}fds by kind, RSS${s.metrics.map((m) => `, ${m.label}${m.unit ? ` (${m.unit})` : ''}`).join('')}`);
    const other = s.runtimes[1];
    out.push(`  try        repro compare --scenario ${s.name}${other ? ` --runtime ${other.name}` : ''}`, '');
  }
  return out.join('\n').trimEnd();
}
