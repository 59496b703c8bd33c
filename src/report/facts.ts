/**
 * What a run says, in words: the rows, sentences and labels every view
 * (terminal summary, HTML, Markdown, JUnit) shows, so they never disagree. Pure.
 */
import type { KindCounts } from '../fdprobe/kinds.js';
import type { AttributionGroup, AttributionOrigin, Check, KeptOutput, ReproDocument, RunDocument } from '../model/run-document.js';
import { maxOf, percentile } from '../model/stats.js';
import { drainCompareRows, drainRunRows, isDrainRun, lostSentence } from '../kinds/drain/facts.js';
import { ellipsize, shellCommand, visibleLine } from './text.js';

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

/** How a value that was never measured is shown: a dash, and why. */
const notMeasured = (why: string) => `— (${why})`;
const NO_BASELINE = 'never sampled: the run ended before its baseline';
const NO_RELOAD = 'no reload sampled after the baseline';

/** The fd limit, or a dash when it was never read (a program that ended before it could be). */
function limitText(run: RunDocument): string {
  return run.ulimit !== null ? String(run.ulimit) : '—';
}

/** Growth per reload, or why there is none: a slope needs the baseline and at least one reload. */
function growthText(run: RunDocument, unit: string): string {
  const v = run.measured;
  if (run.samples.length === 0) return notMeasured(NO_BASELINE);
  if (run.samples.length === 1) return notMeasured(NO_RELOAD);
  return `${v.growthPerReload.toFixed(3)}${unit}`;
}

export function formatKinds(kinds: KindCounts): string {
  const parts = Object.entries(kinds).map(([k, v]) => `${k} ${signed(v as number)}`);
  return parts.length ? parts.join(', ') : 'none';
}

/**
 * A check's label: `ok`, `FAIL`, or, in an inconclusive verdict, `could not
 * tell` for a check that did not pass: what the run could not tell (it ended
 * early, nothing was measured) is not a failure of the program.
 */
export function checkLabel(check: Check, inconclusive = false): 'ok' | 'FAIL' | 'could not tell' {
  if (check.ok) return 'ok';
  return inconclusive ? 'could not tell' : 'FAIL';
}

/** A check as the views print it: `ok: …`, `FAIL: …` or (inconclusive verdict) `could not tell: …`. */
export function checkLine(check: Check, inconclusive = false): string {
  return `${checkLabel(check, inconclusive)}: ${check.text}`;
}

/** The verdict's checks as lines, failed first (the order the verdict keeps). */
export function checkLines(doc: ReproDocument): string[] {
  return doc.verdict.checks.map((c) => checkLine(c, isInconclusive(doc)));
}

/** A run the verdict could not judge (a compare never is: its runs are). */
export function isInconclusive(doc: ReproDocument): boolean {
  return doc.kind === 'run' && doc.verdict.inconclusive === true;
}

/** The scenario options of a run, e.g. `channel pipe`; empty for none. */
function optionsText(run: RunDocument): string {
  return Object.entries(run.options)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** `node`, `rust`, or `node, channel pipe`: what a protocol run ran as. */
function runtimeText(run: RunDocument): string {
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
function finalFds(run: RunDocument): string {
  if (run.samples.length === 0) return notMeasured(NO_BASELINE);
  const note = aboveLimitNote(run);
  return `${run.measured.finalFds} of limit ${run.ulimit !== null ? run.ulimit : notMeasured('not read')}${note ? ` (${note})` : ''}`;
}

function baselineFds(run: RunDocument): string {
  return run.samples.length === 0 ? notMeasured(NO_BASELINE) : String(run.measured.baselineFds);
}

/** A metric over the run: `start → end`, and its peak when that was neither (a number that rises and falls back, e.g. fds left by each round). */
function metricSpan(run: RunDocument, id: string): string {
  const m = run.measured.metrics[id];
  if (!m || (m.start === null && m.end === null)) return '—';
  const peak = maxOf(run.samples.map((s) => s.metrics?.[id] ?? -Infinity));
  const showPeak = Number.isFinite(peak) && peak !== m.start && peak !== m.end;
  return `${m.start ?? '—'} → ${m.end ?? '—'}${showPeak ? ` (peak ${peak})` : ''}`;
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

function childEnd(run: RunDocument): string {
  const c = run.end.child;
  if (!c) return 'not started';
  const how = c.signal ? `killed by ${c.signal}` : `exited with code ${c.exitCode}`;
  // forced: still running when the grace after SIGTERM ran out (ignoring it, or busy, or stuck): say only that.
  return c.forced ? `${how}: SIGKILLed, still running when the grace period after SIGTERM ran out (teardown ${c.teardownMs} ms)` : `${how} (teardown ${c.teardownMs} ms)`;
}

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

const ended = (run: RunDocument) => `${visibleLine(run.end.detail)}; ${(run.end.wallMs / 1000).toFixed(2)} s`;

/** watch's EMFILE row: where it was seen, or (`ahead`) that the next reload cannot open its fds, predicted from the free slots: no call failed. */
function emfileRow(run: RunDocument): string {
  const e = run.emfileObserved;
  if (!e) return run.samples.length ? 'not seen' : notMeasured(NO_BASELINE);
  if (e.ahead) return `reload ${e.reload + 1} cannot open its fds (predicted from the free slots after reload ${e.reload}; no call failed): ${visibleLine(e.evidence)}`;
  return `${e.logFile === undefined ? '' : `in ${visibleLine(e.logFile)} `}at reload ${e.reload}: ${visibleLine(e.evidence)}`;
}

function watchRows(run: RunDocument): [string, string][] {
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

function patternRows(run: RunDocument): [string, string][] {
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

/** What the run is expected to show: the expectation it was judged by, which for watch names the gate. */
export function expectation(run: RunDocument): string {
  const e = run.verdict.expectation;
  // watch's words name its gate, which `repro report --max-growth` may have changed since they were written.
  if (run.roleKind !== 'watch' || e.fdsPerReload !== 0 || e.drain) return e.shows;
  return `${e.gate === 'survivors' ? 'fds surviving' : 'fd growth'} ≤ ${e.maxGrowth}/reload and no EMFILE`;
}

/** The summary rows of one run: label → value. */
export function runRows(run: RunDocument): [string, string][] {
  if (isDrainRun(run)) return drainRunRows(run);
  return run.roleKind === 'watch' ? watchRows(run) : patternRows(run);
}

const sampled = (r: RunDocument, value: () => string) => (r.samples.length === 0 ? '—' : value());

/** The side-by-side rows of a compare: label → value of each run; one row per metric any run records. */
export function compareRows(runs: readonly RunDocument[]): [string, (r: RunDocument) => string][] {
  if (runs.length > 0 && runs.every(isDrainRun)) return drainCompareRows();
  const metrics = new Map<string, string>();
  for (const r of runs) for (const m of r.metrics) if (!metrics.has(m.id)) metrics.set(m.id, m.unit ? `${m.label} (${m.unit})` : m.label);
  return [
    ['runtime · ulimit', (r) => `${runtimeText(r)} · ${limitText(r)}`],
    ['baseline fds', (r) => sampled(r, () => String(r.measured.baselineFds))],
    ['final fds', (r) => sampled(r, () => `${r.measured.finalFds}${overLimit(r) ? ' *' : ''}`)],
    ['growth/reload', (r) => (r.samples.length < 2 ? '—' : r.measured.growthPerReload.toFixed(3))],
    ['what grew', (r) => (r.samples.length < 2 ? '—' : formatKinds(r.measured.growthByKind))],
    ['register failure', (r) => (r.measured.emfileAtReload === null ? 'none' : `${r.measured.registerFailure} @ ${r.measured.emfileAtReload}`)],
    ['signal handling', (r) => (r.measured.signalHandling !== 'not-checked' ? r.measured.signalHandling : r.measured.reloadsDone > 0 && r.measured.reloadsDone === r.reloadsPlanned ? 'alive' : 'not checked')],
    ...[...metrics].map(([id, label]): [string, (r: RunDocument) => string] => [label, (r) => metricSpan(r, id)]),
    ['child RSS (KiB)', (r) => (r.measured.rssKb.start === null ? '—' : `${r.measured.rssKb.start} → ${r.measured.rssKb.end}`)],
    ['reloads acked', (r) => `${r.measured.reloadsDone}/${r.reloadsPlanned}`],
    ['round trip p50/p99', (r) => (r.measured.latencyMs.p50 === null ? '—' : `${r.measured.latencyMs.p50}/${r.measured.latencyMs.p99 ?? '—'} ms`)],
    ['verdict', (r) => (r.verdict.pass ? 'as expected' : 'NOT as expected')],
  ];
}

/** The final count is above the limit, which needs the note to make sense. */
const overLimit = (r: RunDocument) => r.samples.length > 0 && r.ulimit !== null && r.measured.finalFds > r.ulimit && aboveLimitNote(r) !== null;

/** "final fds 65 of limit 64: why", for views that show the count without its row (compare, JUnit); null when not above the limit. */
export function overLimitSentence(run: RunDocument): string | null {
  return overLimit(run) ? `final fds ${run.measured.finalFds} of limit ${run.ulimit}: ${aboveLimitNote(run)}` : null;
}

/** Sentences under a compare table: why a final count marked `*` is above the limit. */
export function compareNotes(doc: ReproDocument): string[] {
  if (doc.kind !== 'compare') return [];
  return doc.runs.flatMap((r) => {
    const sentence = overLimitSentence(r);
    return sentence ? [`* ${r.role}: ${sentence}`] : [];
  });
}

/** What the run is called in charts and tables: the role and what it ran as, or the watched program's name. */
export function runLabel(run: RunDocument): string {
  if (run.roleKind !== 'watch') return `${run.role} (${runtimeText(run)})`;
  return ellipsize(visibleLine((run.command[0] ?? 'watched').split('/').at(-1) || 'watched'), 40);
}

/** Every chart draws a run green when it should stay flat and did (correct, a variant, or a watched program that passed), red otherwise. */
export function seriesTone(run: RunDocument): 'red' | 'green' {
  return run.roleKind !== 'broken' && run.verdict.pass ? 'green' : 'red';
}

/** Where a chart marks EMFILE: the same point in every view (terminal, SVG). */
export interface EmfileMark {
  /** The reload that failed. */
  reload: number;
  /** The fd count drawn there: the sample's, or the last one before a program died mid-reload. */
  fds: number;
  /** Index into `run.samples` (`samples.length` when the program died before that reload was sampled). */
  index: number;
  /** True when a sample of that very reload exists. */
  sampled: boolean;
}

/** The EMFILE point of a run, or null when there was none (or nothing was sampled). */
export function emfileMark(run: RunDocument): EmfileMark | null {
  const at = run.measured.emfileAtReload;
  const last = run.samples.at(-1);
  if (at === null || !last) return null;
  const index = run.samples.findIndex((s) => s.reload >= at);
  // A program that died of EMFILE mid-reload has no sample there: mark the reload at the last count it had.
  if (index < 0) return { reload: at, fds: last.fds, index: run.samples.length, sampled: false };
  const sample = run.samples[index] as RunDocument['samples'][number];
  return { reload: at, fds: sample.fds, index, sampled: sample.reload === at };
}

/** One line on the growth and EMFILE: what a failure message names. */
export function growthSentence(run: RunDocument): string {
  if (isDrainRun(run)) return lostSentence(run.drain.ledger);
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

/** How wide the command may be in a header before it is cut with `…`. */
export const COMMAND_WIDTH = 60;

/** The run's one-line title; the watched command quoted like a shell and cut visibly at `commandWidth`. */
/** The limit in a watch header: `ulimit -n 30` when --ulimit set it, `limit 20000 (its own)` when the program kept its own, `limit not read (…)` when the run ended first. */
function watchLimitText(run: RunDocument): string {
  if (run.ulimitGiven === false) return run.ulimit === null ? 'limit not read (the run ended first)' : `limit ${run.ulimit} (its own)`;
  return `ulimit -n ${limitText(run)}`;
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

export function runTitle(run: RunDocument, commandWidth = COMMAND_WIDTH): string {
  if (isDrainRun(run) && run.roleKind === 'watch') {
    return `repro drain · ${commandInTitle(run.command, commandWidth)} · ${run.signal} · lag ${run.drain.plan.lagMs} ms · grace ${run.drain.plan.graceMs} ms`;
  }
  return run.roleKind === 'watch'
    ? `repro watch · ${commandInTitle(run.command, commandWidth)} · ${run.signal} × ${run.reloadsPlanned} · ${watchLimitText(run)}`
    : `repro ${run.role} · ${run.scenario} · ${runtimeText(run)} · ulimit -n ${limitText(run)} · ${run.platform.node}`;
}

export function documentTitle(doc: ReproDocument, commandWidth = COMMAND_WIDTH): string {
  return doc.kind === 'compare'
    ? `repro compare · ${doc.scenario} · ${doc.runtime} · ${doc.runs[0]?.platform.node ?? process.version} · ${(doc.wallMs / 1000).toFixed(2)} s`
    : runTitle(doc, commandWidth);
}

/** How much of a stream was kept: all of it, both ends with the middle counted, or (older documents) its start. */
export function keptNote(output: KeptOutput): string {
  if (!output.truncated) return `${output.bytes} bytes written, all kept`;
  if (output.notKeptBytes !== undefined) return `${output.bytes} bytes written; the start and the end kept, ${output.notKeptBytes} bytes between them not`;
  return `${output.bytes} bytes written; only the first ${Buffer.byteLength(output.text)} kept`;
}

/** PASS/FAIL/INCONCLUSIVE and the sentence after it. */
export function headline(doc: ReproDocument): { status: 'pass' | 'fail' | 'inconclusive'; text: string } {
  if (doc.kind === 'compare') {
    return doc.verdict.pass ? { status: 'pass', text: doc.runs.map(roleInOneBreath).join(', ') } : { status: 'fail', text: 'the comparison did not show the expected difference' };
  }
  if (doc.verdict.inconclusive) return { status: 'inconclusive', text: visibleLine(doc.end.detail) };
  const what = expectation(doc);
  return doc.verdict.pass ? { status: 'pass', text: what } : { status: 'fail', text: `expected ${what}` };
}

/** What a role that passed showed, in a few words: `broken leaks to EMFILE`, `correct stays flat`. */
function roleInOneBreath(run: RunDocument): string {
  if (isDrainRun(run)) return `${run.role} ${run.drain.ledger.lost === 0 ? 'loses none' : `loses ${run.drain.ledger.lost}`} of ${run.drain.ledger.total}`;
  const m = run.measured;
  if (run.roleKind === 'broken') return `${run.role} leaks to ${m.registerFailure ?? 'EMFILE'}`;
  if (run.roleKind === 'correct') return `${run.role} stays flat`;
  const grew = run.verdict.expectation.growingMetrics.map((id) => run.metrics.find((d) => d.id === id)?.label ?? id);
  return `${run.role} ${m.growthPerReload > 0 ? 'grows' : 'keeps fds flat'}${grew.length ? ` (${grew.join(', ')} grow)` : ''}`;
}

/** What the rounds driver kept for one round (a `round` event). */
interface RoundEvent {
  round: number;
  left: number;
  leftByKind?: Record<string, number>;
  leftFds?: { fd: number }[];
  phases?: { name: string; fds: number; ring?: { sqes: number; closeFds: number[] } }[];
}

const ROUNDS_SHOWN = 5;

/** fd numbers as `13–20` when they run on without a gap, else listed. */
function fdList(fds: readonly number[]): string {
  const consecutive = fds.length > 1 && fds.every((fd, i) => i === 0 || fd === (fds[i - 1] as number) + 1);
  return consecutive ? `${fds[0]}–${fds.at(-1)}` : fds.join(' ');
}

/**
 * One line per round that left fds (the first few), with the evidence the
 * driver read at the phase markers: `round 2: left 8 (file 8), fds 13–20; at
 * closes-queued the ring held 8 CLOSE SQEs, never submitted`. Empty for runs
 * without rounds.
 */
export function roundLines(run: RunDocument): string[] {
  const rounds = run.events.filter((e) => e.event === 'round') as unknown as RoundEvent[];
  if (rounds.length === 0) return [];
  const leaky = rounds.filter((r) => r.left > 0);
  if (leaky.length === 0) return [`no round left an fd (${run.measured.reloadsDone} rounds)`];
  const lines = leaky.slice(0, ROUNDS_SHOWN).map((r) => {
    const kinds = Object.entries(r.leftByKind ?? {})
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const fds = (r.leftFds ?? []).map((f) => f.fd);
    const ring = r.phases?.find((p) => p.ring && p.ring.sqes > 0);
    const evidence = ring?.ring ? `; at ${ring.name} the ring held ${ring.ring.sqes} queued SQEs, CLOSE of fds ${fdList(ring.ring.closeFds)}` : '';
    const span = fds.length ? `, fds ${fdList(fds)}` : '';
    return `round ${r.round}: left ${r.left}${kinds ? ` (${kinds})` : ''}${span}${evidence}`;
  });
  if (leaky.length > ROUNDS_SHOWN) lines.push(`… and ${leaky.length - ROUNDS_SHOWN} more rounds that left fds`);
  return lines.map(visibleLine);
}

/** How a kind count reads in one line: `+2 pipe, +1 unix`. */
function plusKinds(kinds: KindCounts): string {
  return Object.entries(kinds)
    .map(([k, n]) => `+${n} ${k}`)
    .join(', ');
}

/**
 * watch: the survivors strip as lines ("reload 3: +2 pipe, still open"); a
 * run of reloads that left nothing is one line ("reloads 1–11: nothing new
 * still open"); the uncounted tail is marked.
 */
export function survivorLines(run: RunDocument, most = Infinity): string[] {
  const s = run.survivors;
  if (!s) return [];
  const lines: string[] = [];
  const rows = s.byReload;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as (typeof rows)[number];
    const counted = r.counted ? '' : ' (not counted: too close to the end to be cleaned up)';
    if (r.survived !== 0) {
      lines.push(`reload ${r.reload}: ${plusKinds(r.survivedKinds)}, still open${counted}`);
      continue;
    }
    // The run of clean reloads from here: consecutive, all counted or all not.
    let j = i;
    let opened = r.opened ?? 0;
    for (let next = rows[j + 1]; next && next.survived === 0 && next.counted === r.counted && next.reload === (rows[j] as typeof r).reload + 1; next = rows[j + 1]) {
      j++;
      opened += next.opened ?? 0;
    }
    const last = rows[j] as typeof r;
    const which = j === i ? `reload ${r.reload}` : `reloads ${r.reload}–${last.reload}`;
    lines.push(`${which}: nothing new still open${opened ? ` (${opened} opened, all closed)` : ''}${counted}`);
    i = j;
  }
  const shown = lines.length > most ? [...lines.slice(0, most - 1), `… ${lines.length - most + 1} more reloads`] : lines;
  if (s.byReloadNotShown > 0) shown.push(`… ${s.byReloadNotShown} later reloads not kept`);
  return shown;
}

/** Why a group of surviving fds has no call, in words. */
const ORIGIN_WORDS: Record<Exclude<AttributionOrigin, 'call'>, string> = {
  'scm-rights': 'received through SCM_RIGHTS by',
  inherited: 'inherited from the start (open before the program ran, passed down by its launcher)',
  'io-uring': 'created by io_uring (no system call to trace)',
  'before-tracing': 'opened before tracing began (a process the trace did not see start)',
  'untraced-call': 'made by a call strace was not asked to trace',
};

/** The title of a run's attribution section: `where the survivors came from` (watch), `where the leaked fds of broken came from` (a scenario run). */
export function attributionTitle(run: RunDocument): string {
  return run.roleKind === 'watch' ? 'where the survivors came from' : `where the leaked fds of ${run.role} came from`;
}

/** One group's headline: "2 per reload from `pipe2([3, 4], O_CLOEXEC)` in pid 12 (python3 app.py), first at reload 1, still open". */
export function attributionHeadline(g: AttributionGroup): string {
  const call = g.syscall ? `${g.syscall}(${visibleLine(g.args ?? '')})` : '';
  const how = g.origin === 'call' ? `from ${call}` : g.origin === 'scm-rights' ? `${ORIGIN_WORDS['scm-rights']} ${call}` : ORIGIN_WORDS[g.origin];
  const per = g.perReload >= 0.995 || g.count === 1 ? `${g.perReload} per reload` : `${g.count} (${g.perReload} per reload)`;
  const forked = g.createdInPid !== undefined ? `, made in pid ${g.createdInPid} and inherited by fork` : '';
  return `${g.count === 1 ? '1 fd' : per} ${how} in pid ${g.pid} (${ellipsize(visibleLine(g.command), 50)})${forked}, first at reload ${g.firstReload}, still open`;
}

/** The details under a group's headline: its frames, its kind and fds, what fdinfo says. */
export function attributionDetails(g: AttributionGroup): string[] {
  const out: string[] = [];
  if (g.frames.length) {
    const interpreter = g.command.split(' ')[0]?.split('/').at(-1) || g.frames.at(-1)?.object.split('/').at(-1);
    // A runtime frame in a library (an FFI or native addon such as koffi.node) names the library.
    const named = (f: { symbol: string; object: string }) => {
      const object = f.object.split('/').at(-1) ?? '';
      return g.frameOrigin === 'runtime' && object !== interpreter ? `${visibleLine(f.symbol)} (${visibleLine(object)})` : visibleLine(f.symbol);
    };
    const names = g.frames.map(named).join(' ← ');
    const where = g.frameOrigin === 'runtime' ? `runtime frames (${interpreter} is an interpreter: the program's own lines are not in a native stack)` : 'program frames';
    out.push(`${where}: ${ellipsize(names, 160)}${g.foldedFrames ? ` (${g.foldedFrames} library frames folded)` : ''}`);
  } else if (g.origin === 'call' || g.origin === 'scm-rights') out.push('no frame of the program in the stack');
  const kinds = Object.entries(g.kinds).map(([k, n]) => `${n} ${k}`).join(', ');
  out.push(`${kinds}: fd ${g.fds.join(', ')}${g.count > g.fds.length ? ', …' : ''}${g.fdinfo ? `; ${visibleLine(g.fdinfo)}` : ''}`);
  return out;
}

/**
 * --attribute: the attribution as lines (a headline per group, details
 * indented by two spaces); none without it. watch attributes its survivors;
 * a scenario run its leaked fds (open at the last sample, not at the baseline).
 */
export function attributionLines(run: RunDocument, mostGroups = Infinity): string[] {
  const a = run.attribution;
  if (!a) return [];
  const what = run.roleKind === 'watch' ? 'surviving fds' : 'leaked fds (open at the last sample, not at the baseline)';
  if (a.survivors === 0 && run.roleKind !== 'watch') return [`no fd leaked: none open at the last sample that was not open at the baseline, so nothing to attribute (traced by ${a.tracer})`, ...(a.note ? [`note: ${visibleLine(a.note)}`] : [])];
  const share = a.survivors ? Math.round((1000 * a.attributed) / a.survivors) / 10 : 100;
  const out = [`${a.attributed} of ${a.survivors} ${what} (${share}%) attributed to the call that made them, by ${a.tracer}`];
  if (a.note) out.push(`note: ${visibleLine(a.note)}`);
  const groups = a.groups.slice(0, mostGroups);
  for (const g of groups) out.push(attributionHeadline(g), ...attributionDetails(g).map((d) => `  ${d}`));
  const more = a.groups.length - groups.length + a.groupsNotShown;
  if (more > 0) out.push(`… ${more} more groups`);
  return out;
}

/** watch: the survivors strip in one line of glyphs, one per reload: `█` survivors, `·` none, `░` not counted. */
export function survivorStrip(run: RunDocument): string | null {
  const s = run.survivors;
  if (!s || s.byReload.length === 0) return null;
  return s.byReload.map((r) => (!r.counted ? '░' : r.survived > 0 ? '█' : '·')).join('');
}

/** watch: the processes of the last sample as lines: `pid 12 (parent 1) nginx: master process: 10 fds (unix 4, pipe 2)`. */
export function processLines(run: RunDocument): string[] {
  const last = run.samples.at(-1);
  if (!last?.processes) return [];
  const lines = last.processes.map((p) => {
    const kinds = Object.entries(p.byKind)
      .sort((a, b) => (b[1] as number) - (a[1] as number))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return `pid ${p.pid} (parent ${p.ppid}) ${ellipsize(visibleLine(p.command), 60)}: ${p.fds} fds${kinds ? ` (${kinds})` : ''}`;
  });
  const more = (last.processCount ?? lines.length) - lines.length;
  if (more > 0) lines.push(`… and ${more} more processes`);
  return lines;
}

/** watch: rows on the tree (where the signal went, how a reload was known finished, what was measured, what grew); none for older documents. */
export function treeRows(run: RunDocument): [string, string][] {
  const t = run.tree;
  if (!t) return [];
  const rows: [string, string][] = [];
  const to = t.signalTo === 'program' ? 'the program' : t.signalTo === 'group' ? "the program's process group" : 'every process of the tree that takes it';
  rows.push(['signal to', `${to}${t.signalTargetNote ? ` (${visibleLine(t.signalTargetNote)})` : ''}`]);
  const deliveries = run.samples.flatMap((s) => (s.deliveredMs === undefined ? [] : [s.deliveredMs]));
  rows.push([
    'completion',
    t.completion === 'threads-and-fd-floor'
      ? `every thread back where it idled, then the fd floor held for a short confirmation (the settle window where a thread could not be judged)${deliveries.length ? `; delivered in p50 ${percentile(deliveries, 50)} ms` : ''}`
      : `the fd floor alone: ${visibleLine(t.completionNote ?? 'thread evidence unreadable')}`,
  ]);
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
