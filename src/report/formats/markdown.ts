/**
 * `--markdown FILE` and the GitHub job summary: the verdict, the summary
 * table, a chart GitHub draws (a Mermaid xychart, one per run) and the
 * terminal chart in a fold for viewers that do not draw Mermaid.
 */
import { runsOf } from '../../model/baseline.js';
import type { ReproDocument, RunDocument } from '../../model/run-document.js';
import { maxOf } from '../../model/stats.js';
import { resample } from '../chart.js';
import { COMPARE_ROWS, documentTitle, headline, runLabel, runRows } from '../facts.js';
import { formatDocument } from '../summary.js';
import { niceTicks } from './scale.js';
import { COLORS, seriesColor } from './svg.js';

const ICON = { pass: '✅', fail: '❌', inconclusive: '⚠️' } as const;

/** A table cell: pipes and line breaks would end the cell. */
function cell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

/** A Mermaid xychart: at most 60 points (largest per span, like the terminal chart), the limit as a second line when it is near. */
export function mermaidChart(run: RunDocument): string[] {
  const values = run.samples.map((s) => s.fds);
  if (values.length === 0) return [];
  const points = resample(values, values.length, Math.min(60, values.length));
  const dataTop = maxOf(values);
  const limitShown = run.ulimit > 0 && run.ulimit <= 4 * dataTop;
  const top = niceTicks(Math.max(dataTop, limitShown ? run.ulimit : 0) * 1.08, 6).at(-1) as number;
  const at = run.verdict.emfileAtReload;
  const title = `${runLabel(run)}: open fds per reload${at === null ? '' : ` (EMFILE at ${at})`}${limitShown ? `; grey: the limit ${run.ulimit}` : ''}`;
  // Mermaid's default palette draws the first line almost white: the run's own colour, the limit in grey.
  const palette = `${seriesColor(run)}, ${COLORS.limit}`;
  return [
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${palette}"}}}}%%`,
    'xychart-beta',
    `  title "${title.replace(/"/g, "'")}"`,
    `  x-axis "reload" 0 --> ${Math.max(1, run.samples.at(-1)?.reload ?? 1)}`,
    `  y-axis "open fds" 0 --> ${top}`,
    `  line [${points.join(', ')}]`,
    ...(limitShown ? [`  line [${points.map(() => run.ulimit).join(', ')}]`] : []),
    '```',
  ];
}

function verdictBlock(doc: ReproDocument): string[] {
  const { status, text } = headline(doc);
  return [`**${ICON[status]} ${status.toUpperCase()}: ${text}**`, '', ...doc.verdict.reasons.map((r) => `- ${r}`)];
}

function runTable(doc: ReproDocument): string[] {
  if (doc.kind === 'compare') {
    const { broken, correct } = doc.runs;
    return table(['', 'broken', 'correct'], COMPARE_ROWS.map(([label, f]) => [label, f(broken), f(correct)]));
  }
  return table(['', doc.pattern], runRows(doc));
}

function baselineBlock(doc: ReproDocument): string[] {
  if (!doc.baseline) return [];
  const b = doc.baseline;
  return [
    '',
    `**Baseline** \`${b.file}\` (tolerance ${b.tolerance} fd/reload): ${b.pass ? 'no regression' : 'REGRESSION'}`,
    '',
    ...table(
      ['run', 'growth/reload before', 'now', 'change', ''],
      b.runs.map((r) => [r.run, String(r.before), String(r.after), `${r.change >= 0 ? '+' : ''}${r.change}`, r.regressed ? '❌ worse' : '✅']),
    ),
  ];
}

function outputBlock(run: RunDocument): string[] {
  if (run.verdict.pass || (run.stderr.bytes === 0 && run.stdout.bytes === 0)) return [];
  const tail = (t: string) => t.trimEnd().split('\n').slice(-30).join('\n').replace(/```/g, "'''");
  return [
    '',
    `<details><summary>${runLabel(run)}: what the program printed</summary>`,
    '',
    ...(run.stderr.bytes ? ['stderr:', '```text', tail(run.stderr.text), '```'] : []),
    ...(run.stdout.bytes ? ['stdout:', '```text', tail(run.stdout.text), '```'] : []),
    '</details>',
  ];
}

export function renderMarkdown(doc: ReproDocument): string {
  const runs = runsOf(doc);
  const out = [`### ${documentTitle(doc)}`, '', ...verdictBlock(doc), '', ...runTable(doc), ...baselineBlock(doc)];
  for (const run of runs) out.push('', ...mermaidChart(run));
  out.push('', '<details><summary>Terminal chart</summary>', '', '```text', formatDocument(doc, { color: false, width: 100, chart: true }), '```', '</details>');
  for (const run of runs) out.push(...outputBlock(run));
  return `${out.join('\n')}\n`;
}
