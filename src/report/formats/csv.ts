/** `--csv FILE`: the raw per-reload samples, one row per kept sample (RFC 4180). */
import { FD_KINDS } from '../../fdprobe/kinds.js';
import { runsOf } from '../../model/baseline.js';
import type { ReproDocument } from '../../model/run-document.js';

// A text cell a spreadsheet would run as a formula (OWASP's CSV injection note): `=HYPERLINK(…)`, `+cmd`, `-2+3`, `@SUM`, or one hidden behind a tab or CR.
const FORMULA_START = /^[=+\-@\t\r]/;

function field(value: string | number | undefined): string {
  if (value === undefined) return '';
  // Numbers are repro's own and stay numbers (a negative growth is -0.5, not text); text is a run's role or a metric's id, from the document.
  const s = typeof value === 'number' ? String(value) : FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(s) || s !== String(value) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(doc: ReproDocument): string {
  const runs = runsOf(doc);
  // A column per kind any sample had, in the probe's kind order.
  const seen = new Set(runs.flatMap((r) => r.samples.flatMap((s) => Object.keys(s.fdsByKind))));
  const kinds = FD_KINDS.filter((k) => seen.has(k));
  // A column per metric any run records, in the order the runs list them.
  const metrics = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.id)))];
  const header = ['run', 'reload', 'elapsed_ms', 'fds', ...kinds.map((k) => `fds_${k}`), ...metrics, 'rss_kb', 'round_trip_ms', 'settle_ms'];
  const rows = [header.map(field).join(',')];
  for (const run of runs) {
    for (const s of run.samples) {
      rows.push(
        [run.role, s.reload, s.elapsedMs, s.fds, ...kinds.map((k) => s.fdsByKind[k] ?? 0), ...metrics.map((id) => s.metrics?.[id]), s.rssKb, s.roundTripMs, s.settleMs].map(field).join(','),
      );
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}
