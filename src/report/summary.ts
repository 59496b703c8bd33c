/** The text people read at the end of a run: a view of the run document, nothing else. */
import { Chalk, type ChalkInstance } from 'chalk';
import type { KindCounts } from '../fdprobe/kinds.js';
import type { CompareDocument, KeptOutput, RunDocument } from '../model/run-document.js';
import { percentile } from '../model/stats.js';
import { type ChartSeries, renderChart } from './chart.js';

export interface ViewOptions {
  color: boolean;
  /** Terminal width for the chart. */
  width: number;
  chart: boolean;
}

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

export function formatKinds(kinds: KindCounts): string {
  const parts = Object.entries(kinds).map(([k, v]) => `${k} ${signed(v as number)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function signalHandling(run: RunDocument): string {
  const v = run.verdict;
  if (v.signalHandling === 'dead') return `DEAD: one more ${run.signal} after ${v.registerFailure} caused no reload (the child is alive and caught it)`;
  if (v.signalHandling === 'alive') return `alive: a ${run.signal} after ${v.registerFailure} still caused a reload`;
  return v.reloadsDone > 0 && v.reloadsDone === run.reloadsPlanned ? `alive: all ${v.reloadsDone} reloads acknowledged` : 'not checked';
}

function childEnd(run: RunDocument): string {
  const c = run.end.child;
  if (!c) return 'not started';
  const how = c.signal ? `killed by ${c.signal}` : `exited with code ${c.exitCode}`;
  return c.forced ? `${how}: forcefully terminated after ${c.teardownMs} ms (ignored SIGTERM)` : `${how} (teardown ${c.teardownMs} ms)`;
}

function tail(output: KeptOutput, lines = 8): string[] {
  const all = output.text.trimEnd().split('\n').filter(Boolean);
  const shown = all.slice(-lines).map((l) => `  ${l.length > 200 ? `${l.slice(0, 200)}…` : l}`);
  if (all.length > lines || output.truncated) shown.unshift(`  … (${output.bytes} bytes written${output.truncated ? ', kept output truncated' : ''}; last ${Math.min(lines, all.length)} lines)`);
  return shown;
}

export function seriesOf(run: RunDocument, color: ChartSeries['color']): ChartSeries {
  const label = run.pattern === 'watch' ? (run.command[0] ?? 'watched').split('/').at(-1) ?? 'watched' : `${run.pattern} (${run.channel})`;
  return { label, values: run.samples.map((s) => s.fds), color, markAt: markIndex(run) };
}

function markIndex(run: RunDocument): number | null {
  const at = run.verdict.emfileAtReload;
  if (at === null) return null;
  const index = run.samples.findIndex((s) => s.reload === at);
  return index >= 0 ? index : null;
}

function verdictLines(pass: boolean, reasons: string[], paint: ChalkInstance, what: string): string[] {
  const head = pass ? paint.green.bold(`PASS: ${what}`) : paint.red.bold(`FAIL: ${what}`);
  return [head, ...reasons.map((r) => `  ${r.startsWith('FAIL') ? paint.red(r) : r}`)];
}

function watchRows(run: RunDocument): [string, string][] {
  const v = run.verdict;
  const settles = run.samples.flatMap((s) => (s.settleMs === undefined ? [] : [s.settleMs]));
  return [
    ['baseline fds', String(v.baselineFds)],
    ['final fds', `${v.finalFds} of limit ${run.ulimit}`],
    ['growth', `${v.growthPerReload.toFixed(3)} fd/reload (${formatKinds(v.growthByKind)})`],
    ['EMFILE', run.emfileObserved ? `at reload ${run.emfileObserved.reload}: ${run.emfileObserved.evidence}` : 'not seen'],
    ['signal', `${run.signal}, ${run.signalDisposition ?? 'unknown'} by the program`],
    ['reloads', `${v.reloadsDone} of ${run.reloadsPlanned} settled`],
    ['settle', settles.length ? `p50 ${percentile(settles, 50)} ms, p99 ${percentile(settles, 99)} ms (signal → fd count still)` : '—'],
    ['RSS', v.rssKb.start === null ? '—' : `${v.rssKb.start} → ${v.rssKb.end} KiB`],
    ['ended', `${run.end.detail}; ${(run.end.wallMs / 1000).toFixed(2)} s`],
    ['process', run.attached ? `attached to pid ${run.pid}, left running` : childEnd(run)],
  ];
}

function patternRows(run: RunDocument): [string, string][] {
  const v = run.verdict;
  return [
    ['baseline fds', String(v.baselineFds)],
    [
      'final fds',
      `${v.finalFds} of limit ${run.ulimit}${run.fdsAboveLimitAtStart ? ` (${run.fdsAboveLimitAtStart} inherited fd numbered ≥ ${run.ulimit} takes no slot below it)` : ''}`,
    ],
    ['growth', `${v.growthPerReload.toFixed(3)} fd/reload (${formatKinds(v.growthByKind)})`],
    [
      'register failure',
      v.emfileAtReload === null ? 'none' : `${v.registerFailure} at reload ${v.emfileAtReload}${v.predictedEmfileAtReload === null ? '' : ` (predicted ${v.predictedEmfileAtReload})`}`,
    ],
    ['signal handling', signalHandling(run)],
    ['listeners', `${v.listenersStart ?? '?'} → ${v.listenersEnd ?? '?'}`],
    ['reloads', `${v.reloadsDone} of ${run.reloadsPlanned} acknowledged`],
    ['round trip', `p50 ${ms(v.latencyMs.p50)}, p99 ${ms(v.latencyMs.p99)} (signal → acknowledgement)`],
    ['child RSS', v.rssKb.start === null ? '—' : `${v.rssKb.start} → ${v.rssKb.end} KiB`],
    ['ended', `${run.end.detail}; ${(run.end.wallMs / 1000).toFixed(2)} s`],
    ['child', childEnd(run)],
  ];
}

const EXPECTED: Record<RunDocument['pattern'], string> = {
  broken: 'the broken pattern leaks until EMFILE and then stops reloading',
  correct: 'the correct pattern stays flat',
  watch: 'no fd growth per reload',
};

export function formatRun(run: RunDocument, view: ViewOptions): string {
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const v = run.verdict;
  const watch = run.pattern === 'watch';
  const title = watch
    ? `repro watch · ${run.command.join(' ').slice(0, 60)} · ${run.signal} × ${run.reloadsPlanned} · ulimit -n ${run.ulimit}`
    : `repro ${run.pattern} · ${run.scenario} · ${run.channel} channel · ulimit -n ${run.ulimit} · ${run.platform.node}`;
  const out = [paint.bold(title)];
  for (const [k, val] of watch ? watchRows(run) : patternRows(run)) out.push(`  ${k.padEnd(17)}${val}`);
  if (view.chart && run.samples.length > 0) {
    const color = run.pattern === 'correct' || (watch && v.pass) ? 'green' : 'red';
    out.push('', renderChart([seriesOf(run, color)], { limit: run.ulimit || undefined, width: view.width, height: 12, color: view.color, lastX: run.samples.at(-1)?.reload }));
  }
  if (run.stderr.bytes > 0) out.push('', paint.bold(watch ? 'program stderr:' : 'child stderr (evidence):'), ...tail(run.stderr));
  if (run.stdout.bytes > 0) out.push('', paint.bold(watch ? 'program stdout:' : 'child stdout outside the protocol:'), ...tail(run.stdout));
  const what = EXPECTED[run.pattern];
  if (v.inconclusive) out.push('', paint.yellow.bold(`INCONCLUSIVE: ${run.end.detail}`), ...v.reasons.map((r) => `  ${r}`));
  else out.push('', ...verdictLines(v.pass, v.reasons, paint, v.pass ? what : `expected: ${what}`));
  return out.join('\n');
}

export function formatCompare(doc: CompareDocument, view: ViewOptions): string {
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const { broken, correct } = doc.runs;
  const cell = (run: RunDocument, pick: (r: RunDocument) => string) => pick(run);
  const table: [string, (r: RunDocument) => string][] = [
    ['channel · ulimit', (r) => `${r.channel} · ${r.ulimit}`],
    ['baseline fds', (r) => String(r.verdict.baselineFds)],
    ['final fds', (r) => String(r.verdict.finalFds)],
    ['growth/reload', (r) => r.verdict.growthPerReload.toFixed(3)],
    ['what grew', (r) => formatKinds(r.verdict.growthByKind)],
    ['register failure', (r) => (r.verdict.emfileAtReload === null ? 'none' : `${r.verdict.registerFailure} @ ${r.verdict.emfileAtReload}`)],
    ['signal handling', (r) => (r.verdict.signalHandling === 'not-checked' && r.verdict.reloadsDone === r.reloadsPlanned ? 'alive' : r.verdict.signalHandling)],
    ['listeners', (r) => `${r.verdict.listenersStart ?? '?'} → ${r.verdict.listenersEnd ?? '?'}`],
    ['reloads acked', (r) => `${r.verdict.reloadsDone}/${r.reloadsPlanned}`],
    ['round trip p50/p99', (r) => `${r.verdict.latencyMs.p50 ?? '—'}/${r.verdict.latencyMs.p99 ?? '—'} ms`],
    ['verdict', (r) => (r.verdict.pass ? 'as expected' : 'NOT as expected')],
  ];
  const w = Math.max(20, ...table.map(([, f]) => cell(broken, f).length + 2));
  const out = [paint.bold(`repro compare · ${broken.scenario} · ${broken.platform.node} · ${(doc.wallMs / 1000).toFixed(2)} s`), ''];
  out.push(`  ${''.padEnd(20)}${paint.red('broken'.padEnd(w))}${paint.green('correct')}`);
  for (const [label, f] of table) out.push(`  ${label.padEnd(20)}${cell(broken, f).padEnd(w)}${cell(correct, f)}`);
  if (view.chart) {
    const limit = broken.ulimit === correct.ulimit ? broken.ulimit : Math.max(broken.ulimit, correct.ulimit);
    out.push('', renderChart([seriesOf(broken, 'red'), seriesOf(correct, 'green')], { limit, width: view.width, height: 12, color: view.color }));
    if (broken.sampleStride > 1 || correct.sampleStride > 1) out.push('  (long runs keep every n-th reload: the x axis counts kept samples)');
  }
  if (broken.stderr.bytes > 0) out.push('', paint.bold('broken child stderr (evidence):'), ...tail(broken.stderr, 4));
  if (correct.stderr.bytes > 0) out.push('', paint.bold('correct child stderr:'), ...tail(correct.stderr, 4));
  out.push('', ...verdictLines(doc.verdict.pass, doc.verdict.reasons, paint, doc.verdict.pass ? 'broken leaks to EMFILE, correct stays flat' : 'the comparison did not show the expected difference'));
  return out.join('\n');
}

export function formatProbe(snapshot: import('../cli/commands/probe.js').ProbeSnapshot, view: ViewOptions): string {
  const paint = new Chalk({ level: view.color ? 1 : 0 });
  const out = [paint.bold(`pid ${snapshot.pid} · ${snapshot.count} open fds · ${snapshot.backend}`), ''];
  out.push(`  ${'FD'.padStart(6)}  ${'KIND'.padEnd(10)}  TARGET`);
  for (const fd of snapshot.fds) out.push(`  ${String(fd.fd).padStart(6)}  ${fd.kind.padEnd(10)}  ${fd.target}`);
  out.push('', '  by kind: ' + Object.entries(snapshot.byKind).sort((a, b) => (b[1] as number) - (a[1] as number)).map(([k, n]) => `${k} ${n}`).join(', '));
  const { soft, hard } = snapshot.limits;
  const fmtLimit = (n: number | null) => (n === null ? 'unknown' : String(n));
  const headroom = snapshot.headroom === null ? '' : ` · headroom ${snapshot.headroom} (${((100 * snapshot.count) / (soft as number)).toFixed(1)}% used)`;
  out.push(`  limit: soft ${fmtLimit(soft)}, hard ${fmtLimit(hard)}${headroom}`);
  if (snapshot.rssKb !== null) out.push(`  rss: ${snapshot.rssKb} KiB`);
  return out.join('\n');
}
