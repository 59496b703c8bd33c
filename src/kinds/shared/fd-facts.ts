/**
 * What a run of fds over reloads says, in words: the helpers and the rows of a
 * scenario run (reloads, rounds) that the other kinds' facts fall back on
 * (a drain that never got its load, a watched tree). Pure.
 */
import type { KindCounts } from '../../fdprobe/kinds.js';
import type { RunDocument } from '../../model/run-document.js';
import { maxOf, percentile } from '../../model/stats.js';
import { ellipsize, shellCommand, visibleLine } from '../../report/text.js';

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

/** How a value that was never measured is shown: a dash, and why. */
export const notMeasured = (why: string) => `— (${why})`;
export const NO_BASELINE = 'never sampled: the run ended before its baseline';
export const NO_RELOAD = 'no reload sampled after the baseline';

/** The fd limit, or a dash when it was never read (a program that ended before it could be). */
export function limitText(run: RunDocument): string {
  return run.ulimit !== null ? String(run.ulimit) : '—';
}

/** Growth per reload, or why there is none: a slope needs the baseline and at least one reload. */
export function growthText(run: RunDocument, unit: string): string {
  const v = run.measured;
  if (run.samples.length === 0) return notMeasured(NO_BASELINE);
  if (run.samples.length === 1) return notMeasured(NO_RELOAD);
  return `${v.growthPerReload.toFixed(3)}${unit}`;
}

/** What grew by kind, in one line: `pipe +1.000, unix +0.500`, or `none`. */
export function formatKinds(kinds: KindCounts): string {
  const parts = Object.entries(kinds).map(([k, v]) => `${k} ${signed(v as number)}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** The scenario options of a run, e.g. `channel pipe`; empty for none. */
function optionsText(run: RunDocument): string {
  return Object.entries(run.options)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** `node`, `rust`, or `node, channel pipe`: what a protocol run ran as. */
export function runtimeText(run: RunDocument): string {
  const options = optionsText(run);
  return options ? `${run.runtime}, ${options}` : run.runtime;
}

/**
 * Why the final fds can be above the limit: the one sentence every view
 * (summary, compare, HTML, Markdown, JUnit) uses, or null when no fd was inherited above it.
 */
export function aboveLimitNote(run: RunDocument): string | null {
  const n = run.fdsAboveLimitAtStart;
  if (!n || run.ulimit === null) return null;
  return `${n} inherited fd${n === 1 ? '' : 's'} numbered ≥ ${run.ulimit} count${n === 1 ? 's' : ''} as open but take${n === 1 ? 's' : ''} no slot below the limit`;
}

/** "final fds N of limit L (why N can exceed L)". */
export function finalFds(run: RunDocument): string {
  if (run.samples.length === 0) return notMeasured(NO_BASELINE);
  const note = aboveLimitNote(run);
  return `${run.measured.finalFds} of limit ${run.ulimit !== null ? run.ulimit : notMeasured('not read')}${note ? ` (${note})` : ''}`;
}

export function baselineFds(run: RunDocument): string {
  return run.samples.length === 0 ? notMeasured(NO_BASELINE) : String(run.measured.baselineFds);
}

/**
 * A metric over the run: `start → end`, and its peak when that was neither. A per-reload metric (what each
 * round left) says its median over the reloads and its range instead: its first and last values are the
 * baseline and, often, the reload that failed, so `0 → 0` would hide 8 left by every other round.
 */
export function metricSpan(run: RunDocument, id: string): string {
  const m = run.measured.metrics[id];
  if (!m || (m.start === null && m.end === null)) return '—';
  if (run.metrics.find((d) => d.id === id)?.perReload) return perReloadSpan(run, id);
  const peak = maxOf(run.samples.map((s) => s.metrics?.[id] ?? -Infinity));
  const showPeak = Number.isFinite(peak) && peak !== m.start && peak !== m.end;
  return `${m.start ?? '—'} → ${m.end ?? '—'}${showPeak ? ` (peak ${peak})` : ''}`;
}

/** `8 per reload (0–8, 8 reloads)`: the median, then the range; or `0 in all 500 reloads`. */
function perReloadSpan(run: RunDocument, id: string): string {
  const values = run.samples.filter((s) => s.reload > 0).flatMap((s) => (typeof s.metrics?.[id] === 'number' ? [s.metrics[id] as number] : []));
  if (values.length === 0) return '—';
  const median = percentile(values, 50) as number;
  const [low, high] = [Math.min(...values), Math.max(...values)];
  const reloads = `${values.length} reload${values.length === 1 ? '' : 's'}`;
  return low === high ? `${low} in ${values.length === 1 ? 'its one reload' : `all ${reloads}`}` : `${median} per reload (${low}–${high}, ${reloads})`;
}

/** One row per metric the scenario records: `start → end unit`. */
function metricRows(run: RunDocument): [string, string][] {
  return run.metrics.map(({ id, label, unit }) => {
    const span = metricSpan(run, id);
    return [label, span === '—' ? notMeasured('never reported') : `${span}${unit ? ` ${unit}` : ''}`];
  });
}

function signalHandling(run: RunDocument): string {
  const v = run.measured;
  if (v.signalHandling === 'dead') return `DEAD: one more ${run.signal} after ${v.registerFailure} caused no reload (the child is alive and caught it)`;
  if (v.signalHandling === 'alive') return `alive: a ${run.signal} after ${v.registerFailure} still caused a reload`;
  return v.reloadsDone > 0 && v.reloadsDone === run.reloadsPlanned ? `alive: all ${v.reloadsDone} reloads acknowledged` : 'not checked';
}

export function childEnd(run: RunDocument): string {
  const c = run.end.child;
  if (!c) return 'not started';
  const how = c.signal ? `killed by ${c.signal}` : `exited with code ${c.exitCode}`;
  // forced: still running when the grace after SIGTERM ran out (ignoring it, or busy, or stuck): say only that.
  return c.forced ? `${how}: SIGKILLed, still running when the grace period after SIGTERM ran out (teardown ${c.teardownMs} ms)` : `${how} (teardown ${c.teardownMs} ms)`;
}

export const ended = (run: RunDocument) => `${visibleLine(run.end.detail)}; ${(run.end.wallMs / 1000).toFixed(2)} s`;

/** The summary rows of a scenario run (a role of a scenario, driven through the protocol). */
export function patternRows(run: RunDocument): [string, string][] {
  const v = run.measured;
  const kinds = run.samples.length > 1 ? ` (${formatKinds(v.growthByKind)})` : '';
  return [
    ['runtime', runtimeText(run)],
    ['baseline fds', baselineFds(run)],
    ['final fds', finalFds(run)],
    ['growth', `${growthText(run, ' fd/reload')}${kinds}`],
    [
      'register failure',
      v.emfileAtReload === null ? 'none' : `${v.registerFailure} at reload ${v.emfileAtReload}${v.predictedEmfileAtReload === null ? '' : ` (predicted ${v.predictedEmfileAtReload})`}`,
    ],
    ['signal handling', signalHandling(run)],
    ...metricRows(run),
    ['reloads', `${v.reloadsDone} of ${run.reloadsPlanned} acknowledged`],
    ['round trip', v.latencyMs.p50 === null ? notMeasured('no reload acknowledged') : `p50 ${ms(v.latencyMs.p50)}, p99 ${ms(v.latencyMs.p99)} (signal → acknowledgement)`],
    ['child RSS', v.rssKb.start === null ? notMeasured('not read') : `${v.rssKb.start} → ${v.rssKb.end} KiB`],
    ['ended', ended(run)],
    ['child', childEnd(run)],
  ];
}

/** One line on the growth and EMFILE: what a failure message names. */
export function fdGrowthSentence(run: RunDocument): string {
  const v = run.measured;
  const over = run.samples.at(-1)?.reload ?? 0;
  const note = aboveLimitNote(run);
  const limit = `limit ${limitText(run)}${note ? `; ${note}` : ''}`;
  const grew =
    run.samples.length === 0
      ? `fds not measured (${NO_BASELINE}; ${limit})`
      : run.samples.length === 1
        ? `fds ${v.baselineFds} at the baseline, growth not measured (${NO_RELOAD}; ${limit})`
        : `fds ${v.growthPerReload >= 0 ? 'grew' : 'changed'} ${v.growthPerReload.toFixed(3)}/reload (${v.baselineFds} → ${v.finalFds} over ${over} reloads, ${limit})`;
  const at = v.emfileAtReload;
  const emfile =
    at === null
      ? `no EMFILE in ${v.reloadsDone} reloads`
      : run.emfileObserved?.ahead
        ? `EMFILE ahead: reload ${at + 1} cannot open its fds (predicted from the free slots after reload ${at}; no call failed)`
        : `${v.registerFailure ?? 'EMFILE'} at reload ${at}${v.predictedEmfileAtReload === null ? '' : ` (predicted ${v.predictedEmfileAtReload})`}`;
  const kinds = Object.keys(v.growthByKind).length ? `; what grew: ${formatKinds(v.growthByKind)}` : '';
  return `${grew}; ${emfile}${kinds}`;
}

/**
 * A command, shell-quoted, in at most `width` characters: a cut ends in `…`,
 * and a cut inside a quoted argument closes its quote (`'/a b/c…'`), so the
 * header never shows an opening quote without its closing one.
 */
export function commandInTitle(argv: readonly string[], width: number): string {
  const whole = shellCommand(argv);
  const chars = [...whole];
  if (chars.length <= width) return whole;
  for (let keep = Math.max(0, width - 1); keep >= 0; keep--) {
    let quoted = false;
    let escaped = false;
    for (const c of chars.slice(0, keep)) {
      if (escaped) escaped = false;
      else if (!quoted && c === '\\') escaped = true;
      else if (c === "'") quoted = !quoted;
    }
    // A cut right after a backslash would leave half an escape: cut before it.
    if (escaped) continue;
    const cut = `${chars.slice(0, keep).join('')}…${quoted ? "'" : ''}`;
    if ([...cut].length <= width) return cut;
  }
  return ellipsize(whole, width);
}

/** A scenario run's one-line title; Node's version only where the child runs on Node (after "python" it read as Python's). */
export function roleTitle(run: RunDocument): string {
  const options = optionsText(run);
  const runtime = run.runtime === 'node' ? `node ${run.platform.node}` : run.runtime;
  return `repro ${run.role} · ${run.scenario} · ${options ? `${runtime}, ${options}` : runtime} · ulimit -n ${limitText(run)}`;
}

/** What a scenario run is called in charts and tables: its role and what it ran as. */
export function roleLabel(run: RunDocument): string {
  return `${run.role} (${runtimeText(run)})`;
}

/** What a program run (watch, drain) is called in charts and tables: the program's name. */
export function programLabel(run: RunDocument): string {
  return ellipsize(visibleLine((run.command[0] ?? 'watched').split('/').at(-1) || 'watched'), 40);
}
