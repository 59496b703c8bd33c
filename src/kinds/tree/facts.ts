/**
 * What a watched tree (`repro watch`) says, in words: its summary rows, the
 * rows on the tree, the survivors strip, its title. Pure.
 */
import type { ReloadWindow, RunDocument } from '../../model/run-document.js';
import { lostByWords } from './judge.js';
import { percentile } from '../../model/stats.js';
import { ellipsize, visibleLine } from '../../report/text.js';
import { baselineFds, childEnd, commandInTitle, ended, finalFds, formatKinds, growthText, limitText, NO_BASELINE, NO_RELOAD, notMeasured } from '../shared/fd-facts.js';

const DISPOSITION: Record<NonNullable<RunDocument['signalDisposition']>, string> = {
  caught: 'the program has a handler',
  ignored: 'the program ignores it',
  blocked: 'the program blocks it (it may take it through sigwait or a signalfd)',
  default: 'the program has no handler (default action)',
};

/** The watched signal and what the program (the started one, or --pid) does with it; where it went when not only to the program. */
function signalRow(run: RunDocument): string {
  if (run.signalDisposition === undefined) return `${run.signal}; whether the program catches it: ${notMeasured('not read before the run ended')}`;
  const to = run.tree?.signalTo;
  const sent = to === 'tree' ? '; sent to every process of the tree that takes it' : to === 'group' ? '; sent to its process group' : '';
  return `${run.signal}: ${DISPOSITION[run.signalDisposition]}${sent}`;
}

/** watch's EMFILE row: where it was seen, or (`ahead`) that the next reload cannot open its fds, predicted from the free slots: no call failed. */
function emfileRow(run: RunDocument): string {
  const e = run.emfileObserved;
  if (!e) return run.samples.length ? 'not seen' : notMeasured(NO_BASELINE);
  if (e.ahead) return `reload ${e.reload + 1} cannot open its fds (predicted from the free slots after reload ${e.reload}; no call failed): ${visibleLine(e.evidence)}`;
  return `${e.logFile === undefined ? '' : `in ${visibleLine(e.logFile)} `}at reload ${e.reload}: ${visibleLine(e.evidence)}`;
}

/** The summary rows of a watched program. */
export function watchRows(run: RunDocument): [string, string][] {
  const v = run.measured;
  const settles = run.samples.flatMap((s) => (s.settleMs === undefined ? [] : [s.settleMs]));
  const kinds = run.samples.length > 1 ? ` (${formatKinds(v.growthByKind)})` : '';
  return [
    ['baseline fds', baselineFds(run)],
    ['final fds', finalFds(run)],
    ['growth', `${growthText(run, ' fd/reload')}${kinds}`],
    ['EMFILE', emfileRow(run)],
    ['signal', signalRow(run)],
    ['reloads', `${v.reloadsDone} of ${run.reloadsPlanned} settled`],
    ['settle', settles.length ? `p50 ${percentile(settles, 50)} ms, p99 ${percentile(settles, 99)} ms (signal → reload finished)` : notMeasured(run.samples.length ? NO_RELOAD : NO_BASELINE)],
    ['RSS', v.rssKb.start === null ? notMeasured('not read') : `${v.rssKb.start} → ${v.rssKb.end} KiB`],
    ['ended', ended(run)],
    ['process', run.attached ? attachedEnd(run) : childEnd(run)],
    ...treeRows(run),
  ];
}

/** watch --pid: "left running" only when the process was still running at the end. */
function attachedEnd(run: RunDocument): string {
  if (run.leftRunning === true) return `attached to pid ${run.pid}, left running`;
  if (run.leftRunning === false) return `attached to pid ${run.pid}; it was no longer running at the end`;
  return `attached to pid ${run.pid}`;
}

/** The limit in a watch header: `ulimit -n 30` when --ulimit set it, `limit 20000 (its own)` when the program kept its own, `limit not read (…)` when the run ended first. */
function watchLimitText(run: RunDocument): string {
  if (run.ulimitGiven === false) return run.ulimit === null ? 'limit not read (the run ended first)' : `limit ${run.ulimit} (its own)`;
  return `ulimit -n ${limitText(run)}`;
}

/** A watched program's one-line title; the command quoted like a shell and cut visibly at `commandWidth`. */
export function watchTitle(run: RunDocument, commandWidth: number): string {
  return `repro watch · ${commandInTitle(run.command, commandWidth)} · ${run.signal} × ${run.reloadsPlanned} · ${watchLimitText(run)}`;
}

/** watch: the survivors strip in one line of glyphs, one per reload: `█` survivors, `·` none, `░` not counted. */
export function survivorStrip(run: RunDocument): string | null {
  const s = run.survivors;
  if (!s || s.byReload.length === 0) return null;
  return s.byReload.map((r) => (!r.counted ? '░' : r.survived > 0 ? '█' : '·')).join('');
}

/** "; reload 1 took 300 ms (then held 3000 ms), so each later one was given at least 600 ms; 3000 ms watched after the last for late fds". */
function calibrationWords(c: NonNullable<RunDocument['tree']>['calibration']): string {
  if (!c) return '';
  const end = c.endWindowMs === undefined ? '' : `; ${Math.round(c.endWindowMs)} ms watched after the last for late fds`;
  return `; reload 1 took ${Math.round(c.reloadMs)} ms (then held ${Math.round(c.heldMs)} ms), so each later one was given at least ${Math.round(c.floorMs)} ms${end}`;
}

/** Reload windows shown one row each, at most; the rest are summed in one row. */
const MAX_WINDOW_ROWS = 8;

/** One window in a few words: `812 ok, 3 4xx, 12 lost (12 refused)`. */
function windowWords(w: ReloadWindow): string {
  const other = w.otherStatus > 0 ? `, ${w.otherStatus} 4xx` : '';
  const lost = w.lost > 0 ? `, ${w.lost} lost (${lostByWords(w.lostBy)})` : ', 0 lost';
  return `${w.ok} ok${other}${lost}`;
}

/** watch --url: the load, whether each signal took effect, and the requests per reload window (every window that lost some; the first few otherwise). */
export function reloadLoadRows(run: RunDocument): [string, string][] {
  const load = run.reloadLoad;
  if (!load) return [];
  const rows: [string, string][] = [];
  const retried = load.windows.reduce((n, w) => n + w.retried, 0);
  rows.push(['load', `${load.total} ${load.method} to ${visibleLine(load.url)}, ${load.concurrency} clients`]);
  rows.push(['requests', `${load.lost} lost${retried > 0 ? `, ${retried} retried once (keep-alive closed)` : ''}`]);
  const effects = load.windows.flatMap((w) => (w.tookEffectMs === undefined ? [] : [w.tookEffectMs]));
  const took = effects.length ? `, p50 ${percentile(effects, 50)} ms after the signal` : '';
  rows.push(['took effect', `${load.tookEffect} of ${load.signalsSent} signals${took}`]);
  const kinds = [...new Set(load.windows.flatMap((w) => (w.evidence ? [w.evidence.replace(/ \(.*$/, '').replace(/ of pid \d+$/, '')] : [])))];
  if (kinds.length) rows.push(['shown by', ellipsize(visibleLine(kinds.join('; ')), 60)]);
  const windows = load.windows.filter((w) => w.reload > 0);
  const losing = windows.filter((w) => w.lost > 0);
  const shown = (losing.length > 0 ? losing : windows).slice(0, MAX_WINDOW_ROWS);
  for (const w of shown) rows.push([`reload ${w.reload}`, windowWords(w)]);
  const rest = (losing.length > 0 ? losing : windows).length - shown.length;
  if (rest > 0) rows.push(['other reloads', `${rest} more${losing.length > 0 ? ' that lost requests' : ''}`]);
  if (losing.length > 0 && losing.length < windows.length) rows.push(['lossless reloads', `${windows.length - losing.length} of ${windows.length}`]);
  const warm = load.windows[0];
  if (warm && warm.lost > 0) rows.push(['before 1st signal', windowWords(warm)]);
  if (load.note) rows.push(['load ended', visibleLine(load.note)]);
  return rows;
}

/** watch: rows on the tree (where the signal went, how a reload was known finished, what was measured, what grew); none for older documents. */
export function treeRows(run: RunDocument): [string, string][] {
  const t = run.tree;
  if (!t) return [];
  const rows: [string, string][] = [];
  const to = t.signalTo === 'program' ? 'the program' : t.signalTo === 'group' ? "the program's process group" : 'every process of the tree that takes it';
  const note = t.signalTargetNote === undefined ? undefined : visibleLine(t.signalTargetNote);
  // A note that tells the program's own story (a daemon, a hot restart) says where the signals went itself: not "the program (the program …)".
  rows.push(['signal to', note === undefined ? to : note.startsWith('the program (') ? note : `${to} (${note})`]);
  const deliveries = run.samples.flatMap((s) => (s.deliveredMs === undefined ? [] : [s.deliveredMs]));
  rows.push([
    'completion',
    t.completion === 'took-effect-under-load'
      ? "under load: each reload's effect seen, then the next signal"
      : t.completion === 'threads-and-fd-floor'
      ? `every thread parked in one of its waits with its CPU time still, then the fd floor held for a short confirmation (the settle window where a thread could not be judged)${calibrationWords(t.calibration)}${deliveries.length ? `; delivered in p50 ${percentile(deliveries, 50)} ms` : ''}`
      : `the fd floor alone: ${visibleLine(t.completionNote ?? 'thread evidence unreadable')}`,
  ]);
  rows.push(...reloadLoadRows(run));
  if (t.keeperNote) rows.push(['keeper', visibleLine(t.keeperNote)]);
  const lastCount = run.samples.at(-1)?.processCount;
  rows.push(['processes', `${lastCount ?? '—'} at the last sample, ${t.processesSeen} seen during the run (program pid ${t.programPid ?? '—'})`]);
  const s = run.survivors;
  if (s) {
    const kinds = Object.entries(s.survivedKinds).map(([k, n]) => `${n} ${k}`).join(', ');
    rows.push(['survivors', `${s.survivorsPerReload}/reload over reloads 1–${s.reloadsCounted}${kinds ? ` (${kinds})` : ''}: ${survivorStrip(run) ?? ''}`]);
  }
  if (t.grew) {
    const g = t.grew;
    const emfile = g.predictedEmfileAtReload === null ? '' : `; EMFILE predicted at reload ${g.predictedEmfileAtReload} under its limit ${g.limit}`;
    rows.push(['grew', `pid ${g.pid} ${ellipsize(visibleLine(g.command), 50)}: ${g.fdsAtStart} → ${g.fdsAtEnd} fds, ${g.survivorsPerReload} surviving/reload${emfile}`]);
  }
  return rows;
}
