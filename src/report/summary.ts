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
import { ellipsize, visibleLine } from './text.js';

export { formatProbe } from './probe-view.js';


export interface ViewOptions {
  color: boolean;
  /** Terminal width for the chart. */
  width: number;
  chart: boolean;
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

function verdictLines(doc: ReproDocument, paint: ChalkInstance): string[] {
  const { status, text } = headline(doc);
  if (status === 'inconclusive') return [paint.yellow.bold(`INCONCLUSIVE: ${text}`), ...checkLines(doc).map((r) => `  ${visibleLine(r)}`)];
  const head = status === 'pass' ? paint.green.bold(`PASS: ${text}`) : paint.red.bold(`FAIL: ${text}`);
  return [head, ...doc.verdict.checks.map((c) => `  ${c.ok ? visibleLine(checkLine(c)) : paint.red(visibleLine(checkLine(c)))}`)];
}

export function formatRun(run: RunDocument, view: ViewOptions): string {
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const streams = viewOf(run).streamHeadings(run);
  const out = [paint.bold(runTitle(run))];
  const rows = runRows(run);
  // A scenario's metric labels can be longer than the built-in ones ("fds left by the round"): never let a value touch its label.
  const labelWidth = Math.max(17, ...rows.map(([k]) => k.length + 1));
  for (const [k, val] of rows) out.push(`  ${k.padEnd(labelWidth)}${val}`);
  const requests = requestsOf(run);
  if (requests) out.push('', ...drainBlock(requests, view));
  else if (view.chart && run.samples.length > 0) {
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
  out.push('', ...verdictLines(run, paint));
  return out.join('\n');
}

export function formatCompare(doc: CompareDocument, view: ViewOptions): string {
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const { runs } = doc;
  const rows = compareRows(runs);
  // Each column as wide as its widest cell (the last one needs no padding).
  const widths = runs.map((r) => Math.max(20, r.role.length + 2, ...rows.map(([, f]) => f(r).length + 2)));
  const cells = (values: string[], paintAt: (i: number, v: string) => string = (_i, v) => v) => values.map((v, i) => paintAt(i, i === values.length - 1 ? v : v.padEnd(widths[i] as number))).join('');
  const tones = runs.map((r, i) => seriesColor(r, i, runs));
  const labelWidth = maxOf(rows.map(([label]) => label.length + 2), 20);
  const out = [paint.bold(documentTitle(doc)), ''];
  out.push(`  ${''.padEnd(labelWidth)}${cells(runs.map((r) => r.role), (i, v) => paint[tones[i] as 'red'](v))}`);
  for (const [label, f] of rows) out.push(`  ${label.padEnd(labelWidth)}${cells(runs.map(f))}`);
  for (const note of compareNotes(doc)) out.push(`  ${note}`);
  const ledgers = runs.flatMap((r) => {
    const requests = requestsOf(r);
    return requests ? [{ role: r.role, requests }] : [];
  });
  if (ledgers.length === runs.length) {
    for (const r of ledgers) out.push('', paint.bold(`${r.role}:`), ...drainBlock(r.requests, view, 4, false).map((l) => `  ${l}`));
    out.push('', `  ${LEDGER_NOTE}`);
  }
  else if (view.chart) {
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
  out.push('', ...verdictLines(doc, paint));
  return out.join('\n');
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
  return verdictLines(shownDocument(doc), new Chalk({ level: view.color ? 1 : 0 }))[0] as string;
}

/** The summary of either kind of document, its strings shown as text (control characters escaped). */
export function formatDocument(doc: ReproDocument, view: ViewOptions): string {
  const shown = shownDocument(doc);
  return shown.kind === 'compare' ? formatCompare(shown, view) : formatRun(shown, view);
}

