/**
 * `repro rules`: Prometheus alerting rules over `repro monitor`'s metrics, as
 * YAML. Three rules, each an answer to "EMFILE is coming":
 * - headroom: fewer than --headroom of the fd limit left, now;
 * - prediction: the fd count over --window, extrapolated --hours ahead,
 *   reaches the limit (predict_linear, the fleet's usual rule, on repro's
 *   per-process series);
 * - survivors: fds kept across reloads grew by at least --min-survivors over
 *   --window. A bounded cache keeps at most its size, so it stays below that
 *   count; a leak per reload passes it after that many reloads.
 * Each holds for --for before it fires. The promtool tests in rules/ show each
 * firing on a leaking series and silent on a flat and a bounded one.
 */
import { formatDuration } from './options.js';

/** What the rules are tuned by. */
export interface RulesOptions {
  /** Fire the headroom rule when less than this fraction of the limit is left (0.1 = 10%). */
  headroom: number;
  /** Fire the prediction rule when the limit is reached within this many hours. */
  hours: number;
  /** Range the prediction and the survivors rule look back over, in ms. */
  windowMs: number;
  /** How long a rule's condition must hold before it fires, in ms. */
  forMs: number;
  /** Fds kept across reloads within --window that fire the survivors rule. */
  minSurvivors: number;
}

export const RULES_DEFAULTS: RulesOptions = { headroom: 0.1, hours: 4, windowMs: 3_600_000, forMs: 600_000, minSurvivors: 5 };

const PROCESS = '{{ $labels.command }} (pid {{ $labels.pid }}, {{ $labels.instance }})';

/** The rules as a Prometheus rule file. */
export function rulesYaml(o: RulesOptions): string {
  const window = formatDuration(o.windowMs);
  const forText = formatDuration(o.forMs);
  const horizonS = Math.round(o.hours * 3600);
  const rule = (name: string, expr: string, severity: string, summary: string, description: string) =>
    [
      `      - alert: ${name}`,
      `        expr: ${expr}`,
      `        for: ${forText}`,
      '        labels:',
      `          severity: ${severity}`,
      '        annotations:',
      `          summary: "${summary}"`,
      `          description: "${description}"`,
    ].join('\n');
  return `${[
    `# Alerting rules for repro monitor's metrics (repro rules --headroom ${o.headroom} --hours ${o.hours} --window ${window} --for ${forText} --min-survivors ${o.minSurvivors}).`,
    '# Load them with rule_files: in prometheus.yml; check them with promtool check rules FILE.',
    'groups:',
    '  - name: repro-fds',
    '    rules:',
    rule(
      'ReproFdHeadroomLow',
      `repro_process_open_fds / repro_process_max_fds > ${Number((1 - o.headroom).toFixed(6))}`,
      'warning',
      `${PROCESS} has less than ${Math.round(o.headroom * 100)}% of its fd limit left`,
      '{{ $value | humanizePercentage }} of the fd limit in use: at the limit, accept(), open() and a new signal listener fail with EMFILE.',
    ),
    rule(
      'ReproFdExhaustionPredicted',
      `predict_linear(repro_process_open_fds[${window}], ${horizonS}) >= repro_process_max_fds`,
      'warning',
      `${PROCESS} will run out of fds within ${o.hours} h`,
      `At the rate of the last ${window}, open fds reach the limit within ${o.hours} h.`,
    ),
    rule(
      'ReproFdsSurviveReloads',
      `delta(repro_process_reload_survivor_fds[${window}]) >= ${o.minSurvivors}`,
      'warning',
      `${PROCESS} keeps fds across reloads`,
      `{{ $value | humanize }} more fds kept across reloads in the last ${window}: a listener or file opened per reload and never closed.`,
    ),
  ].join('\n')}\n`;
}
