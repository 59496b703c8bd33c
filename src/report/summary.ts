/** The text people read at the end of a run: a view of the run document, nothing else. */
import { Chalk, type ChalkInstance } from 'chalk';
import type { DrainRecord } from '../model/drain.js';
import type { CompareDocument, KeptOutput, ReproDocument, RunDocument } from '../model/run-document.js';
import { type ChartSeries, renderChart } from './chart.js';
import { maxOf } from '../model/stats.js';
import { checkLine, checkLines, compareRows, compareNotes, roundLines, documentTitle, emfileMark, headline, keptNote, processLines, requestsOf, runLabel, runRows, runTitle, seriesTone, survivorLines, attributionLines, attributionTitle } from './facts.js';
import { viewOf } from '../kinds/index.js';
import { causeLines, LEDGER_NOTE, ledgerTable, textTimeline, timingRows } from '../kinds/drain/facts.js';
import { shownDocument } from './shown.js';
import { columnsOf, ellipsize, fitLine, visibleLine, wrapParts } from './text.js';

export { formatProbe } from './probe-view.js';


export interface ViewOptions {
  /** Paint with ANSI colours. */
  color: boolean;
  /** Terminal width in columns for the chart. */
  width: number;
  /** Columns every line of text is wrapped to (a terminal's, or COLUMNS); undefined: lines stay whole (a pipe, a log, the Markdown). */
  columns?: number;
  /** Draw the chart (and a drain's timeline). */
  chart: boolean;
}

/** The columns text is wrapped to: unlimited unless the view names them. */
const textColumns = (view: ViewOptions): number => view.columns ?? Infinity;

/** A value that was never measured: `— (why)`. */
const NOT_MEASURED = /^— \((.*)\)$/;

/**
 * The rows of one run as `label  value` lines: a value too wide for the
 * terminal wraps under its own column, and values never measured for the same
 * reason are said once, on one row naming them all. Generic, so a row any
 * kind adds follows it.
 */
export function rowLines(rows: readonly (readonly [string, string])[], width: number): string[] {
  const reasons = new Map<string, string[]>();
  for (const [label, value] of rows) {
    const why = NOT_MEASURED.exec(value)?.[1];
    if (why !== undefined) reasons.set(why, [...(reasons.get(why) ?? []), label]);
  }
  const shown: [string, string][] = [];
  const said = new Set<string>();
  for (const [label, value] of rows) {
    const why = NOT_MEASURED.exec(value)?.[1];
    const labels = why === undefined ? [] : (reasons.get(why) ?? []);
    if (why === undefined || labels.length < 2) shown.push([label, value]);
    else if (!said.has(why)) {
      said.add(why);
      shown.push(['not measured', `— ${labels.join(', ')} (${why})`]);
    }
  }
  // A scenario's metric labels can be longer than the built-in ones ("fds left by the round"): never let a value touch its label.
  const labelWidth = Math.max(17, ...shown.map(([k]) => k.length + 1));
  return shown.flatMap(([k, val]) => wrapParts(val.split(' '), ' ', width, `  ${k.padEnd(labelWidth)}`, ' '.repeat(2 + labelWidth)));
}

/** Every line fitted to the terminal (lines painted with colour are fitted before painting, where they are made). */
function fitted(lines: readonly string[], width: number): string[] {
  return lines.flatMap((block) => block.split('\n')).flatMap((l) => (l.includes('\x1b') ? [l] : fitLine(l, width)));
}

/** The last lines of a kept stream, control characters shown as escapes, and how much of the stream that is. */
function tail(output: KeptOutput, lines = 8): string[] {
  const all = output.text.trimEnd().split('\n').filter(Boolean);
  const shown = all.slice(-lines).map((l) => `  ${ellipsize(visibleLine(l), 200)}`);
  if (all.length > lines || output.truncated) shown.unshift(`  … (${keptNote(output)}; the last ${Math.min(lines, all.length)} lines shown)`);
  return shown;
}

/** A run as a chart series, its EMFILE mark where every view puts it (facts.emfileMark). */
export function seriesOf(run: RunDocument, color: ChartSeries['color']): ChartSeries {
  const mark = emfileMark(run);
  return { label: runLabel(run), values: run.samples.map((s) => s.fds), color, mark: mark ? { index: mark.index, fds: mark.fds } : null };
}

/** The reload at the right end of a run's x axis: its last sample, or the EMFILE it died of after that. */
function lastReload(run: RunDocument): number | undefined {
  const last = run.samples.at(-1)?.reload;
  const mark = emfileMark(run);
  return last === undefined ? undefined : Math.max(last, mark?.reload ?? 0);
}

/** Long enough that saying it twice costs a reader a line: the reason of an inconclusive run is said in its headline only. */
const SAID_ONCE_COLUMNS = 40;

/** The headline and its checks, each fitted to `width` (an unlimited width: the headline on one line, as --quiet prints it). */
function verdictLines(doc: ReproDocument, paint: ChalkInstance, width = Infinity): string[] {
  const { status, text } = headline(doc);
  const fit = (line: string, tone: (s: string) => string) => fitLine(line, width).map((l) => tone(l));
  if (status === 'inconclusive') {
    const once = (line: string) => (columnsOf(text) >= SAID_ONCE_COLUMNS ? line.replace(`: ${text}`, ' (the reason above)') : line);
    return [...fit(`INCONCLUSIVE: ${text}`, paint.yellow.bold), ...checkLines(doc).flatMap((r) => fitLine(`  ${once(visibleLine(r))}`, width))];
  }
  const head = fit(`${status === 'pass' ? 'PASS' : 'FAIL'}: ${text}`, status === 'pass' ? paint.green.bold : paint.red.bold);
  return [...head, ...doc.verdict.checks.flatMap((c) => fit(`  ${visibleLine(checkLine(c))}`, c.ok ? (l) => l : paint.red))];
}

/** The rows of an inconclusive run: its reason, which the headline gives, is not given again in a row. */
function rowsSayingWhyOnce(doc: RunDocument): [string, string][] {
  const { status, text } = headline(doc);
  const rows = runRows(doc);
  if (status !== 'inconclusive' || columnsOf(text) < SAID_ONCE_COLUMNS) return rows;
  return rows.map(([k, v]) => [k, v.replace(text, 'stopped early (why: INCONCLUSIVE below)')]);
}

export function formatRun(run: RunDocument, view: ViewOptions): string {
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const streams = viewOf(run).streamHeadings(run);
  const out = [...titleLines(runTitle(run), textColumns(view)).map((l) => paint.bold(l)), ...rowLines(rowsSayingWhyOnce(run), textColumns(view))];
  const requests = requestsOf(run);
  const block = requests ? drainBlock(requests, view) : [];
  if (block.length > 0) out.push('', ...block);
  // One sample is no line over reloads (a ledger's or trials' run, a start-up that never settled): nothing to draw.
  else if (view.chart && run.samples.length > 1) {
    out.push('', renderChart([seriesOf(run, seriesTone(run))], { limit: run.ulimit ?? undefined, width: view.width, height: 12, color: view.color, lastX: lastReload(run) }));
  }
  const rounds = roundLines(run);
  if (rounds.length) out.push('', paint.bold('what each round left:'), ...rounds.map((l) => `  ${l}`));
  const processes = processLines(run);
  if (processes.length > 0) out.push('', paint.bold('processes measured (last sample):'), ...processes.map((l) => `  ${l}`));
  const survivors = survivorLines(run, 12);
  if (survivors.length > 0) out.push('', paint.bold('fds each reload left open at the end (survivors):'), ...survivors.map((l) => `  ${l}`));
  const attributed = attributionLines(run, 8);
  if (attributed.length > 0) out.push('', paint.bold(`${attributionTitle(run)} (--attribute):`), ...attributed.map((l) => `  ${l}`));
  if (run.stderr.bytes > 0) out.push('', paint.bold(streams.stderr), ...tail(run.stderr));
  if (run.stdout.bytes > 0) out.push('', paint.bold(streams.stdout), ...tail(run.stdout));
  return [...fitted(out, textColumns(view)), '', ...verdictLines(run, paint, textColumns(view))].join('\n');
}

/** A title broken between its ` · ` parts, so what a part says is never split. */
function titleLines(title: string, width: number): string[] {
  return wrapParts(title.split(' · '), ' · ', width, '', '  ');
}

export function formatCompare(doc: CompareDocument, view: ViewOptions): string {
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const { runs } = doc;
  const tones = runs.map((r, i) => seriesColor(r, i, runs));
  const out = [...titleLines(documentTitle(doc), textColumns(view)).map((l) => paint.bold(l)), ''];
  out.push(...sideBySide(runs, textColumns(view), (i, v) => paint[tones[i] as 'red'](v)));
  for (const note of compareNotes(doc)) out.push(...fitLine(`  ${note}`, textColumns(view)));
  const ledgers = runs.flatMap((r) => {
    const requests = requestsOf(r);
    return requests ? [{ role: r.role, requests }] : [];
  });
  if (ledgers.length === runs.length) {
    for (const r of ledgers) {
      const block = drainBlock(r.requests, view, 4, false);
      if (block.length > 0) out.push('', paint.bold(`${r.role}:`), ...block.map((l) => `  ${l}`));
    }
    out.push('', `  ${LEDGER_NOTE}`);
  }
  // One sample each is no line over reloads (ledgers, trials): the table says it all.
  else if (view.chart && runs.some((r) => r.samples.length > 1)) {
    const limit = maxOf(runs.map((r) => r.ulimit ?? 0), 0) || undefined;
    out.push('', renderChart(runs.map((r, i) => seriesOf(r, tones[i] as ChartSeries['color'])), { limit, width: view.width, height: 12, color: view.color }));
    if (runs.some((r) => r.sampleStride > 1)) out.push('  (long runs keep every n-th reload: the x axis counts kept samples)');
  }
  for (const r of runs) {
    const rounds = roundLines(r);
    if (rounds.length) out.push('', paint.bold(`what each round of ${r.role} left:`), ...rounds.map((l) => `  ${l}`));
  }
  for (const r of runs) {
    const attributed = attributionLines(r, 8);
    if (attributed.length) out.push('', paint.bold(`${attributionTitle(r)} (--attribute):`), ...attributed.map((l) => `  ${l}`));
  }
  for (const r of runs) {
    if (r.stderr.bytes > 0) out.push('', paint.bold(r.roleKind === 'broken' ? `${r.role} child stderr (evidence):` : `${r.role} child stderr:`), ...tail(r.stderr, 4));
  }
  return [...fitted(out, textColumns(view)), '', ...verdictLines(doc, paint, textColumns(view))].join('\n');
}

/**
 * A compare's side-by-side table: each column as wide as its widest cell, and
 * when the runs do not fit the terminal side by side, as many tables of
 * consecutive runs as it takes, each with the labels (a column is never cut).
 */
function sideBySide(runs: readonly RunDocument[], width: number, paintRole: (i: number, v: string) => string): string[] {
  const rows = compareRows(runs);
  const widths = runs.map((r) => Math.max(20, r.role.length + 2, ...rows.map(([, f]) => columnsOf(f(r)) + 2)));
  const labelWidth = maxOf(rows.map(([label]) => label.length + 2), 20);
  const groups: number[][] = [];
  for (const [i] of runs.entries()) {
    const group = groups.at(-1);
    // The last column needs no padding after it.
    const used = group ? 2 + labelWidth + group.reduce((sum, j) => sum + (widths[j] as number), 0) : Infinity;
    if (group && used + (widths[i] as number) - 2 <= width) group.push(i);
    else groups.push([i]);
  }
  return groups.flatMap((group, g) => {
    const cells = (values: (i: number) => string, paintAt: (i: number, v: string) => string = (_i, v) => v) =>
      group.map((i, k) => paintAt(i, k === group.length - 1 ? values(i) : values(i).padEnd(widths[i] as number))).join('');
    const lines = [`  ${''.padEnd(labelWidth)}${cells((i) => (runs[i] as RunDocument).role, paintRole)}`];
    for (const [label, f] of rows) lines.push(`  ${label.padEnd(labelWidth)}${cells((i) => f(runs[i] as RunDocument))}`.trimEnd());
    return g === 0 ? lines : ['', ...lines];
  });
}

/** A table as padded text lines (columns as wide as their widest cell). */
function textTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A drain run's ledger, its loss causes, its timings and (with the chart) its timeline. */
function drainBlock(drain: DrainRecord, view: ViewOptions, causes = 6, note = true): string[] {
  const { ledger, timeline } = drain;
  // No request sent (a server that never answered): the rows above say so; an empty table, its legend and a shutdown never begun say nothing.
  if (ledger.total === 0) return [];
  const { header, rows } = ledgerTable(ledger);
  const out = ['  requests by outcome × phase (when each started):', ...textTable(header, rows).map((l) => `    ${l}`), ...(note ? [`    ${LEDGER_NOTE}`] : [])];
  const lines = causeLines(ledger, causes);
  if (lines.length) out.push('  losses by cause:', ...lines.map((l) => `    ${visibleLine(l)}`));
  out.push('  shutdown:', ...timingRows(ledger).map(([k, v]) => `    ${k.padEnd(26)}${v}`));
  if (view.chart) out.push('  timeline (requests by when they started):', ...textTimeline(timeline, Math.max(20, Math.min(72, view.width - 16))).map((l) => `    ${l}`));
  return out;
}

/** Chart colours of a compare's runs: broken red, correct green, variants cyan, then magenta. */
function seriesColor(run: RunDocument, index: number, runs: readonly RunDocument[]): ChartSeries['color'] {
  if (run.roleKind === 'broken') return 'red';
  if (run.roleKind === 'correct') return 'green';
  return runs.filter((r) => r.roleKind === 'variant').indexOf(run) === 0 ? 'cyan' : index % 2 ? 'magenta' : 'yellow';
}

/** The verdict's one line (`PASS: …`, `FAIL: …`, `INCONCLUSIVE: …`), its strings shown as text: what --quiet prints. */
export function formatVerdictLine(doc: ReproDocument, view: ViewOptions): string {
  const shown = shownDocument(doc);
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const line = verdictLines(shown, paint)[0] as string;
  // A FAIL line says what was expected; a CI log wants the figure that broke it on the same line: the first failed check.
  const failed = headline(shown).status === 'fail' ? shown.verdict.checks.find((c) => !c.ok) : undefined;
  return failed ? `${line}; ${paint.red(visibleLine(failed.text))}` : line;
}

/** The summary of either kind of document, its strings shown as text (control characters escaped). */
export function formatDocument(doc: ReproDocument, view: ViewOptions): string {
  const shown = shownDocument(doc);
  return shown.kind === 'compare' ? formatCompare(shown, view) : formatRun(shown, view);
}

