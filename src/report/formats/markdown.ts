/**
 * `--markdown FILE` and the GitHub job summary: the verdict, the summary
 * table, a chart GitHub draws (a Mermaid xychart, one per run) and the
 * terminal chart in a fold for viewers that do not draw Mermaid.
 */
import { runsOf } from '../../model/baseline.js';
import type { DrainRecord } from '../../model/drain.js';
import type { KeptOutput, ReproDocument, RunDocument } from '../../model/run-document.js';
import { maxOf } from '../../model/stats.js';
import { resample } from '../chart.js';
import { checkLines, compareRows, roundLines, compareNotes, documentTitle, emfileMark, headline, keptNote, requestsOf, runLabel, runRows, processLines, survivorLines, attributionLines, attributionTitle } from '../facts.js';
import { formatDocument } from '../summary.js';
import { causeLines, LEDGER_NOTE, ledgerTable, textTimeline, timingRows } from '../../kinds/drain/facts.js';
import { visible, visibleLine } from '../text.js';
import { niceTicks } from './scale.js';
import { COLORS, seriesColor } from './svg.js';
import { esc } from './xml.js';

const ICON = { pass: '✅', fail: '❌', inconclusive: '⚠️' } as const;

/**
 * Inline Markdown text, on one line: every character that could open a
 * construct (emphasis, code span, link, HTML tag or comment, entity, heading
 * close, table cell, GitHub math and mentions) is backslash-escaped, control
 * characters and line breaks shown as escapes.
 */
export function mdText(value: string): string {
  return visibleLine(value).replace(/[\\`*_[\]<>#!|~&$@]/g, (c) => `\\${c}`);
}

/** A code span that its content cannot close: delimited by more backticks than any run inside. */
export function mdCode(value: string): string {
  const text = visibleLine(value);
  const ticks = '`'.repeat(longestRun(text, '`') + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || (text.startsWith(' ') && text.endsWith(' ')) ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

/** A fenced code block that its content cannot close: a fence longer than any backtick run inside. */
export function mdFence(body: string, info: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return [`${fence}${info}`, body, fence];
}

function longestRun(text: string, ch: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.map(mdText).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(mdText).join(' | ')} |`)];
}

/** A Mermaid xychart: at most 60 points (largest per span, like the terminal chart), the limit as a second line when it is near. */
export function mermaidChart(run: RunDocument): string[] {
  const values = run.samples.map((s) => s.fds);
  if (values.length === 0) return [];
  const points = resample(values, values.length, Math.min(60, values.length));
  const dataTop = maxOf(values);
  const limit = run.ulimit;
  const limitShown = limit !== null && limit <= 4 * dataTop;
  const top = niceTicks(Math.max(dataTop, limitShown ? limit : 0) * 1.08, 6).at(-1) as number;
  const at = emfileMark(run)?.reload ?? null;
  const title = visibleLine(`${runLabel(run)}: open fds per reload${at === null ? '' : ` (EMFILE at ${at})`}${limitShown ? `; grey: the limit ${limit}` : ''}`);
  // Mermaid's default palette draws the first line almost white: the run's own colour, the limit in grey.
  const palette = `${seriesColor(run)}, ${COLORS.limit}`;
  const body = [
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${palette}"}}}}%%`,
    'xychart-beta',
    `  title "${title.replace(/"/g, "'")}"`,
    `  x-axis "reload" 0 --> ${Math.max(1, run.samples.at(-1)?.reload ?? 1)}`,
    `  y-axis "open fds" 0 --> ${top}`,
    `  line [${points.join(', ')}]`,
    ...(limitShown ? [`  line [${points.map(() => limit).join(', ')}]`] : []),
  ];
  return mdFence(body.join('\n'), 'mermaid');
}

function verdictBlock(doc: ReproDocument): string[] {
  const { status, text } = headline(doc);
  return [`**${ICON[status]} ${status.toUpperCase()}: ${mdText(text)}**`, '', ...checkLines(doc).map((r) => `- ${mdText(r)}`)];
}

function runTable(doc: ReproDocument): string[] {
  if (doc.kind === 'compare') {
    const notes = compareNotes(doc).map(mdText);
    return [...table(['', ...doc.runs.map((r) => r.role)], compareRows(doc.runs).map(([label, f]) => [label, ...doc.runs.map(f)])), ...notes.flatMap((n) => ['', n])];
  }
  return table(['', doc.role], runRows(doc));
}

function baselineBlock(doc: ReproDocument): string[] {
  if (!doc.baseline) return [];
  const b = doc.baseline;
  return [
    '',
    `**Baseline** ${mdCode(b.file)} (tolerance ${b.tolerance} fd/reload): ${b.pass ? 'no regression' : 'REGRESSION'}`,
    '',
    ...table(
      ['run', 'growth/reload before', 'now', 'change', ''],
      b.runs.map((r) => [r.run, String(r.before), String(r.after), `${r.change >= 0 ? '+' : ''}${r.change}`, r.regressed ? '❌ worse' : '✅']),
    ),
  ];
}

const OUTPUT_LINES = 30;

/** The last lines of a kept stream in a fence it cannot close, under a line saying how much of the stream they are. */
function streamBlock(name: string, output: KeptOutput): string[] {
  if (output.bytes === 0) return [];
  const lines = visible(output.text).trimEnd().split('\n');
  const shown = lines.slice(-OUTPUT_LINES);
  const what = `${name} (${keptNote(output)}${lines.length > shown.length ? `; the last ${shown.length} lines shown` : ''}):`;
  return [mdText(what), '', ...mdFence(shown.join('\n'), 'text'), ''];
}

function outputBlock(run: RunDocument): string[] {
  if (run.verdict.pass || (run.stderr.bytes === 0 && run.stdout.bytes === 0)) return [];
  return [
    '',
    // An HTML block: Markdown is not read inside its first line, so the label is HTML-escaped.
    `<details><summary>${esc(runLabel(run))}: what the program printed</summary>`,
    '',
    ...streamBlock('stderr', run.stderr),
    ...streamBlock('stdout', run.stdout),
    '</details>',
  ];
}

/** A drain run: its ledger (losses marked), causes, shutdown timings and timeline. */
function drainBlock(role: string, drain: DrainRecord): string[] {
  const { header, rows } = ledgerTable(drain.ledger);
  const causes = causeLines(drain.ledger, 10);
  return [
    `**${mdText(role)}: requests by outcome × phase**`,
    '',
    ...table(header, rows),
    '',
    mdText(LEDGER_NOTE),
    '',
    ...(causes.length ? causes.map((c) => `- ${mdText(c)}`) : ['No request lost.']),
    '',
    ...table(['shutdown', 'from the signal'], timingRows(drain.ledger)),
    '',
    ...mdFence(textTimeline(drain.timeline, 72).join('\n'), 'text'),
  ];
}

/** watch: the processes measured at the last sample and the survivors by reload, as lists. */
function treeBlock(run: RunDocument): string[] {
  const processes = processLines(run);
  const survivors = survivorLines(run, 40);
  const out: string[] = [];
  if (processes.length) out.push('', '**Processes measured** (last sample)', '', ...processes.map((l) => `- ${mdText(l)}`));
  if (survivors.length) out.push('', `**Survivors by reload** (fds still open at the end; reloads 1–${run.survivors?.reloadsCounted ?? 0} counted)`, '', ...survivors.map((l) => `- ${mdText(l)}`));
  const [summary, ...groups] = attributionLines(run, 16);
  const title = attributionTitle(run);
  if (summary) out.push('', `**${mdText(title.charAt(0).toUpperCase() + title.slice(1))}** (${mdText(summary)})`, '', ...groups.map((l) => (l.startsWith('  ') ? `  - ${mdText(l.trim())}` : `- ${mdText(l)}`)));
  return out;
}

export function renderMarkdown(doc: ReproDocument): string {
  const runs = runsOf(doc);
  const out = [`### ${mdText(documentTitle(doc))}`, '', ...verdictBlock(doc), '', ...runTable(doc), ...baselineBlock(doc)];
  // One sample is no line over reloads (ledgers, trials): no chart of one point.
  for (const run of runs) if (!requestsOf(run) && run.samples.length > 1) out.push('', ...mermaidChart(run));
  for (const run of runs) {
    const requests = requestsOf(run);
    if (requests) out.push('', ...drainBlock(run.role, requests));
  }
  for (const run of runs) out.push(...treeBlock(run));
  out.push('', '<details><summary>Terminal chart</summary>', '', ...mdFence(formatDocument(doc, { color: false, width: 100, chart: true }), 'text'), '', '</details>');
  for (const run of runs) {
    const rounds = roundLines(run);
    if (rounds.length) out.push('', `**What each round of ${mdText(runLabel(run))} left**`, '', ...rounds.map((l) => `- ${mdText(l)}`));
  }
  for (const run of runs) out.push(...outputBlock(run));
  return `${out.join('\n')}\n`;
}
