/**
 * What a run says, in words: the rows, sentences and labels every view
 * (terminal summary, HTML, Markdown, JUnit) shows, so they never disagree. Pure.
 */
import type { KindCounts } from '../fdprobe/kinds.js';
import type { ReproDocument, RunDocument } from '../model/run-document.js';
import { percentile } from '../model/stats.js';

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
  // forced: still running when the grace after SIGTERM ran out (ignoring it, or busy, or stuck): say only that.
  return c.forced ? `${how}: SIGKILLed, still running when the grace period after SIGTERM ran out (teardown ${c.teardownMs} ms)` : `${how} (teardown ${c.teardownMs} ms)`;
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

export const EXPECTED: Record<RunDocument['pattern'], string> = {
  broken: 'the broken pattern leaks until EMFILE and then stops reloading',
  correct: 'the correct pattern stays flat',
  watch: 'no fd growth per reload',
};

/** The summary rows of one run: label → value. */
export function runRows(run: RunDocument): [string, string][] {
  return run.pattern === 'watch' ? watchRows(run) : patternRows(run);
}

/** The side-by-side rows of a compare: label → value of each run. */
export const COMPARE_ROWS: [string, (r: RunDocument) => string][] = [
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

/** What the run is called in charts and tables: the pattern and channel, or the watched program's name. */
export function runLabel(run: RunDocument): string {
  return run.pattern === 'watch' ? ((run.command[0] ?? 'watched').split('/').at(-1) ?? 'watched') : `${run.pattern} (${run.channel})`;
}

/** Every chart draws a run green when it stays flat as it should (correct, or a watched program that passed), red otherwise. */
export function seriesTone(run: RunDocument): 'red' | 'green' {
  return run.pattern === 'correct' || (run.pattern === 'watch' && run.verdict.pass) ? 'green' : 'red';
}

/** One line on the growth and EMFILE: what a failure message names. */
export function growthSentence(run: RunDocument): string {
  const v = run.verdict;
  const over = run.samples.at(-1)?.reload ?? 0;
  const grew = `fds ${v.growthPerReload >= 0 ? 'grew' : 'changed'} ${v.growthPerReload.toFixed(3)}/reload (${v.baselineFds} → ${v.finalFds} over ${over} reloads, limit ${run.ulimit})`;
  const at = v.emfileAtReload;
  const emfile =
    at === null
      ? `no EMFILE in ${v.reloadsDone} reloads`
      : `${v.registerFailure ?? 'EMFILE'} at reload ${at}${v.predictedEmfileAtReload === null ? '' : ` (predicted ${v.predictedEmfileAtReload})`}`;
  const kinds = Object.keys(v.growthByKind).length ? `; what grew: ${formatKinds(v.growthByKind)}` : '';
  return `${grew}; ${emfile}${kinds}`;
}

/** The run's one-line title. */
export function runTitle(run: RunDocument): string {
  return run.pattern === 'watch'
    ? `repro watch · ${run.command.join(' ').slice(0, 60)} · ${run.signal} × ${run.reloadsPlanned} · ulimit -n ${run.ulimit}`
    : `repro ${run.pattern} · ${run.scenario} · ${run.channel} channel · ulimit -n ${run.ulimit} · ${run.platform.node}`;
}

export function documentTitle(doc: ReproDocument): string {
  return doc.kind === 'compare' ? `repro compare · ${doc.runs.broken.scenario} · ${doc.runs.broken.platform.node} · ${(doc.wallMs / 1000).toFixed(2)} s` : runTitle(doc);
}

/** PASS/FAIL/INCONCLUSIVE and the sentence after it. */
export function headline(doc: ReproDocument): { status: 'pass' | 'fail' | 'inconclusive'; text: string } {
  if (doc.kind === 'compare') {
    return doc.verdict.pass
      ? { status: 'pass', text: 'broken leaks to EMFILE, correct stays flat' }
      : { status: 'fail', text: 'the comparison did not show the expected difference' };
  }
  if (doc.verdict.inconclusive) return { status: 'inconclusive', text: doc.end.detail };
  const what = EXPECTED[doc.pattern];
  return doc.verdict.pass ? { status: 'pass', text: what } : { status: 'fail', text: `expected ${what}` };
}

