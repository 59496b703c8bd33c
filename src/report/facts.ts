/**
 * What a run says, in words: the rows, sentences and labels every view
 * (terminal summary, HTML, Markdown, JUnit) shows, so they never disagree.
 * What differs by kind the run's kind says (src/kinds/view.ts). Pure.
 */
import type { KindCounts } from '../fdprobe/kinds.js';
import type { DrainRecord } from '../model/drain.js';
import type { AttributionGroup, AttributionOrigin, Check, KeptOutput, ReproDocument, RunDocument } from '../model/run-document.js';
import { viewOf } from '../kinds/index.js';
import { aboveLimitNote, formatKinds, limitText, metricSpan, runtimeText } from '../kinds/shared/fd-facts.js';
import { ellipsize, visibleLine } from './text.js';

export { aboveLimitNote, commandInTitle, formatKinds } from '../kinds/shared/fd-facts.js';
export { survivorStrip, treeRows } from '../kinds/tree/facts.js';

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

/** A run the verdict could not judge, or a compare whose failing runs could not tell (none failed by a finding). */
export function isInconclusive(doc: ReproDocument): boolean {
  return doc.verdict.inconclusive === true;
}

/** What the run is expected to show: the expectation it was judged by, which for watch names the gate. */
export function expectation(run: RunDocument): string {
  return viewOf(run).expectation(run);
}

/** The request ledger a run shows (a drain's), or undefined: what picks the requests picture and the ledger sections. */
export function requestsOf(run: RunDocument): DrainRecord | undefined {
  return viewOf(run).requests(run);
}

/** The summary rows of one run: label → value. */
export function runRows(run: RunDocument): [string, string][] {
  return viewOf(run).rows(run);
}

const sampled = (r: RunDocument, value: () => string) => (r.samples.length === 0 ? '—' : value());

/** The side-by-side rows of a compare: label → value of each run; one row per metric any run records. */
export function compareRows(runs: readonly RunDocument[]): [string, (r: RunDocument) => string][] {
  const own = runs[0] && viewOf(runs[0]).compareRows(runs);
  if (own) return own;
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
  return viewOf(run).label(run);
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

/** One line on the growth and EMFILE (or the requests lost): what a failure message names. */
export function growthSentence(run: RunDocument): string {
  return viewOf(run).failureSentence(run);
}

/** How wide the command may be in a header before it is cut with `…`. */
export const COMMAND_WIDTH = 60;

/** The run's one-line title; a command in it quoted like a shell and cut visibly at `commandWidth`. */
export function runTitle(run: RunDocument, commandWidth = COMMAND_WIDTH): string {
  return viewOf(run).title(run, commandWidth);
}

export function documentTitle(doc: ReproDocument, commandWidth = COMMAND_WIDTH): string {
  if (doc.kind !== 'compare') return runTitle(doc, commandWidth);
  // Node's version names the children's runtime only when they run on Node (the harness's Node runs them);
  // after "python" it read as Python's.
  const runtime = doc.runtime === 'node' ? `node ${doc.runs[0]?.platform.node ?? process.version}` : doc.runtime;
  return `repro compare · ${doc.scenario} · ${runtime} · ${(doc.wallMs / 1000).toFixed(2)} s`;
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
    // An interrupted compare showed nothing about the roles it did not finish: not a failure of theirs.
    const aborted = doc.verdict.pass ? undefined : doc.runs.find((r) => r.end.reason === 'aborted');
    if (aborted) return { status: 'inconclusive', text: `${aborted.role} was interrupted (${visibleLine(aborted.end.detail)}); no verdict` };
    if (doc.verdict.inconclusive) return { status: 'inconclusive', text: untoldRoles(doc.runs) };
    return doc.verdict.pass ? { status: 'pass', text: doc.runs.map(roleInOneBreath).join(', ') } : { status: 'fail', text: 'the comparison did not show the expected difference' };
  }
  if (doc.verdict.inconclusive) return { status: 'inconclusive', text: visibleLine(doc.end.detail) };
  const what = expectation(doc);
  return doc.verdict.pass ? { status: 'pass', text: what } : { status: 'fail', text: `expected ${what}` };
}

/** Which roles could not tell and why (each one's first failed check): a compare's inconclusive headline. */
function untoldRoles(runs: readonly RunDocument[]): string {
  const byReason = new Map<string, string[]>();
  for (const r of runs.filter((run) => run.verdict.inconclusive === true)) {
    const reason = visibleLine(r.verdict.checks.find((c) => !c.ok)?.text ?? r.end.detail);
    byReason.set(reason, [...(byReason.get(reason) ?? []), r.role]);
  }
  return [...byReason].map(([reason, roles]) => `${roles.join(', ')} could not tell: ${reason}`).join('; ');
}

/** What a role that passed showed, in a few words: `broken leaks to EMFILE`, `correct stays flat`. */
function roleInOneBreath(run: RunDocument): string {
  const own = viewOf(run).inOneBreath(run);
  if (own !== undefined) return own;
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
      const replaced = r.replaced ? ` (${r.replaced === r.survived ? '' : `${r.replaced} of them `}replacing an fd open since the start: not counted)` : '';
      lines.push(`reload ${r.reload}: ${plusKinds(r.survivedKinds)}, still open${replaced}${counted}`);
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

/** What a call made on a runtime's worker pool means for finding its caller. */
const POOL_WORDS: Record<NonNullable<AttributionGroup['workerPool']>, string> = {
  'libuv-threadpool':
    "async fs call: libuv's threadpool made it, so its JavaScript caller is in no native stack (the path in the call names the file); to find the caller, log new Error().stack from an async_hooks init hook for FSREQCALLBACK and FSREQPROMISE (a stream opens on the next tick: its stack shows the stream's _construct), or make the call sync once (node::fs::Open is then in the stack)",
  'tokio-blocking-pool': "the call ran on Tokio's blocking pool (tokio::fs or spawn_blocking), so the code that awaited it is on another thread's stack",
};

/** The title of a run's attribution section: `where the survivors came from` (watch), `where the leaked fds of broken came from` (a scenario run). */
export function attributionTitle(run: RunDocument): string {
  return viewOf(run).attribution(run).title;
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
  } else if (g.origin === 'call' || g.origin === 'scm-rights') out.push(g.workerPool === 'tokio-blocking-pool' ? `no frame of the program in the stack: ${POOL_WORDS['tokio-blocking-pool']}` : 'no frame of the program in the stack');
  if (g.workerPool === 'libuv-threadpool') out.push(POOL_WORDS['libuv-threadpool']);
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
  const { what, noneInOneLine } = viewOf(run).attribution(run);
  if (a.survivors === 0 && noneInOneLine) return [`no fd leaked: none open at the last sample that was not open at the baseline, so nothing to attribute (traced by ${a.tracer})`, ...(a.note ? [`note: ${visibleLine(a.note)}`] : [])];
  const share = a.survivors ? Math.round((1000 * a.attributed) / a.survivors) / 10 : 100;
  const out = [`${a.attributed} of ${a.survivors} ${what} (${share}%) attributed to the call that made them, by ${a.tracer}`];
  if (a.note) out.push(`note: ${visibleLine(a.note)}`);
  const groups = a.groups.slice(0, mostGroups);
  for (const g of groups) out.push(attributionHeadline(g), ...attributionDetails(g).map((d) => `  ${d}`));
  const more = a.groups.length - groups.length + a.groupsNotShown;
  if (more > 0) out.push(`… ${more} more groups`);
  return out;
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
