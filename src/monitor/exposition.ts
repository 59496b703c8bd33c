/**
 * The exporter's metrics as text: OpenMetrics 1.0 (what Prometheus asks for
 * first; `# EOF` last, counters' family named without `_total`, `# UNIT`
 * where the name ends in one) or, for a client that does not accept it,
 * the Prometheus text format 0.0.4. Both from one table of families, so a
 * metric is declared once (name, type, unit, help) and rendered both ways.
 */
import { constants as osConstants } from 'node:os';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One metric family. */
export interface Family {
  /** Name without `_total` (OpenMetrics' family name). */
  name: string;
  /** Counter or gauge. */
  type: 'counter' | 'gauge';
  /** The unit the name ends with, for OpenMetrics' `# UNIT` line. */
  unit?: 'seconds' | 'bytes';
  /** One sentence. */
  help: string;
  /** Its samples: labels and a value. */
  samples: Sample[];
}

/** One sample of a family. */
export interface Sample {
  /** Label names and values, in the order they are written. */
  labels: Record<string, string>;
  /** The value. */
  value: number;
}

const escapeLabel = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const escapeHelp = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** The families as OpenMetrics text (`openMetrics`) or as Prometheus text 0.0.4. */
export function render(families: readonly Family[], openMetrics: boolean): string {
  const out: string[] = [];
  for (const f of families) {
    const sampleName = f.type === 'counter' ? `${f.name}_total` : f.name;
    const familyName = openMetrics ? f.name : sampleName;
    out.push(`# HELP ${familyName} ${escapeHelp(f.help)}`, `# TYPE ${familyName} ${f.type}`);
    if (openMetrics && f.unit) out.push(`# UNIT ${familyName} ${f.unit}`);
    for (const s of f.samples) out.push(`${sampleName}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  if (openMetrics) out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/** Does this Accept header take OpenMetrics? (Prometheus ≥ 2.5 sends it first.) */
export function acceptsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept);
}

const SIGNAL_NAMES = new Map<number, string>();
// The first name wins: SIGABRT before its alias SIGIOT, SIGIO before SIGPOLL.
for (const [name, n] of Object.entries(osConstants.signals as Record<string, number>)) if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);
/** SIGHUP for 1; SIGRTMIN+n for real-time signals, which node:os does not name. */
export function signalName(signo: number): string {
  return SIGNAL_NAMES.get(signo) ?? (signo >= 34 ? `SIGRTMIN+${signo - 34}` : `SIG${signo}`);
}
