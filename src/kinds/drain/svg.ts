/**
 * `--svg FILE` for load-and-signal runs (graceful-drain, `repro drain`):
 * requests by outcome over time, one panel per run, every panel on one time
 * axis with the signal at 0, so an exit 11 ms after it and a SIGKILL 2 s
 * after it read at a glance. Requests are placed by when they started (the
 * timeline's buckets). Answers stack above the axis; losses stack below it on
 * a scale of their own, since they are often a hundredth of the answers. The
 * signal, readiness false, the end of the lag, the listener close, the last
 * byte, a second signal and the exit (or SIGKILL) are vertical marks. No
 * scripts, fonts or links. Pure: document → string.
 */
import type { Outcome, TimelineBucket, TimelineMarks } from '../../model/drain.js';
import type { ReproDocument, RunDocument } from '../../model/run-document.js';
import { killedSentence } from '../../model/drain.js';
import { documentTitle, headline, runLabel } from '../../report/facts.js';
import { isDrainRun } from './facts.js';
import { ellipsize } from '../../report/text.js';
import { attrs, esc } from '../../report/formats/xml.js';

type DrainRun = RunDocument & { drain: NonNullable<RunDocument['drain']> };

/** A band of the stacked bars: answers above the axis, losses below. */
interface Band {
  id: string;
  label: string;
  color: string;
  lost: boolean;
  /** Requests of this band in one bucket. */
  of: (b: TimelineBucket) => number;
}

const n = (b: TimelineBucket, o: Outcome) => b.counts[o] ?? 0;
const FAILURES = ['reset', 'truncated', 'timeout', 'unavailable'] as const;
/**
 * Failures the ledger did not count as lost (sent after the exit, or a GET retried on a new connection): the
 * bucket's failures beyond its `lost`, taken from resets first (the usual failure after an exit), then cuts,
 * timeouts and 5xx, so the bands below the axis add up to exactly what the ledger lost.
 */
const failedNotLost = (b: TimelineBucket): Record<(typeof FAILURES)[number], number> => {
  let excess = Math.max(0, FAILURES.reduce((sum, o) => sum + n(b, o), 0) - b.lost);
  const out = { reset: 0, truncated: 0, timeout: 0, unavailable: 0 };
  for (const o of FAILURES) {
    out[o] = Math.min(excess, n(b, o));
    excess -= out[o];
  }
  return out;
};
const failedLost = (o: (typeof FAILURES)[number]) => (b: TimelineBucket) => n(b, o) - failedNotLost(b)[o];
/** Refusals the ledger counts as lost (before the signal or in the lag): what a bucket loses beyond 5xx, resets, cuts and timeouts. */
const refusedLost = (b: TimelineBucket) => Math.min(n(b, 'refused'), Math.max(0, b.lost - FAILURES.reduce((sum, o) => sum + failedLost(o)(b), 0)));

export const BANDS: readonly Band[] = [
  { id: 'ok', label: '2xx', color: '#2e7d32', lost: false, of: (b) => n(b, 'ok') },
  { id: 'other-status', label: 'other status (1xx, 3xx, 4xx)', color: '#7c3aed', lost: false, of: (b) => n(b, 'other-status') },
  { id: 'refused-counted', label: 'refused after the lag or the exit (not lost)', color: '#9ca3af', lost: false, of: (b) => n(b, 'refused') - refusedLost(b) },
  { id: 'failed-counted', label: 'failed after the exit, unanswered after the lag, or retried (not lost)', color: '#d1d5db', lost: false, of: (b) => Object.values(failedNotLost(b)).reduce((a, v) => a + v, 0) },
  { id: 'unavailable', label: '5xx', color: '#1d4ed8', lost: true, of: failedLost('unavailable') },
  { id: 'reset', label: 'reset', color: '#c62828', lost: true, of: failedLost('reset') },
  { id: 'truncated', label: 'truncated', color: '#ea580c', lost: true, of: failedLost('truncated') },
  { id: 'timeout', label: 'timeout', color: '#78350f', lost: true, of: failedLost('timeout') },
  { id: 'refused-lost', label: 'refused while it should serve', color: '#f472b6', lost: true, of: refusedLost },
];

/** The marks, in the order their labels are placed. */
const MARKS: readonly { key: keyof TimelineMarks; label: (run: DrainRun) => string; color: string; dash?: string }[] = [
  { key: 'signalMs', label: (r) => r.signal, color: '#111827' },
  { key: 'readinessFalseMs', label: () => 'readiness false', color: '#1d4ed8', dash: '2 3' },
  { key: 'lagEndMs', label: () => 'lag over', color: '#6b7280', dash: '6 4' },
  { key: 'listenerClosedMs', label: () => 'listener closed', color: '#374151', dash: '2 3' },
  { key: 'secondSignalMs', label: () => 'second signal', color: '#111827', dash: '6 4' },
  { key: 'lastByteMs', label: () => 'last byte', color: '#2e7d32', dash: '2 3' },
  { key: 'exitMs', label: (r) => (r.drain.ledger.exit?.signal ? `died of ${r.drain.ledger.exit.signal}` : `exit ${r.drain.ledger.exit?.code ?? ''}`.trim()), color: '#b45309' },
  { key: 'killMs', label: () => 'SIGKILL', color: '#c62828' },
];

const TEXT = '#111827';
const MUTED = '#4b5563';
const AXIS = '#374151';
const GRID = '#e5e7eb';
const WIDTH = 880;
const PAD = { left: 64, right: 24 };
const LANES = 4;
/** Marks closer than this (px) share one label. */
const MERGE_PX = 8;
const LANE_H = 13;
const UP_H = 110;
const DOWN_H = 50;
const PANEL_H = 28 + LANES * LANE_H + 8 + UP_H + DOWN_H + 34;
const HEADER = 72;
const GLYPH_EM = 0.62;

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function text(x: number, y: number, body: string, extra: Record<string, string | number | undefined> = {}): string {
  return `<text${attrs({ x: fmt(x), y: fmt(y), ...extra })}>${esc(body)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, extra: Record<string, string | number | undefined>): string {
  return `<line${attrs({ x1: fmt(x1), y1: fmt(y1), x2: fmt(x2), y2: fmt(y2), ...extra })}/>`;
}

function fitted(body: string, widthPx: number, fontPx: number): string {
  return ellipsize(body, Math.max(8, Math.floor(widthPx / (fontPx * GLYPH_EM))));
}

/** Where the run's signal is on its own clock (ms since the load started): the panel's 0. */
function zeroOf(run: DrainRun): number {
  return run.drain.timeline.marks.signalMs ?? 0;
}

/** The time span (ms relative to each run's signal) every panel shares. */
function span(runs: DrainRun[]): { from: number; to: number } {
  let from = 0;
  let to = 0;
  for (const run of runs) {
    const { bucketMs, buckets, marks } = run.drain.timeline;
    const zero = zeroOf(run);
    const first = buckets[0];
    if (first) from = Math.min(from, first.atMs - zero);
    const last = buckets.at(-1);
    if (last) to = Math.max(to, last.atMs + bucketMs - zero);
    for (const v of Object.values(marks)) if (typeof v === 'number') to = Math.max(to, v - zero);
  }
  return { from, to: Math.max(to, from + 1) };
}

/** Time ticks (ms) at a nice step, including 0 (the signal). */
function timeTicks(from: number, to: number, count = 8): number[] {
  const raw = (to - from) / count;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to + 1e-9; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return ticks;
}

const seconds = (ms: number) => `${ms === 0 ? '0' : (ms / 1000).toFixed(Math.abs(ms) < 1000 && ms % 1000 !== 0 ? 2 : 1).replace(/\.?0+$/, '')} s`;

/** Rectangles of one band as a single path: `M x y h w v h h -w z` per bucket. */
function bandPath(rects: { x: number; y: number; w: number; h: number }[]): string {
  return rects.map((r) => `M${fmt(r.x)} ${fmt(r.y)}h${fmt(r.w)}v${fmt(r.h)}h${fmt(-r.w)}z`).join('');
}

function panel(run: DrainRun, y0: number, range: { from: number; to: number }, used: Set<string>): string {
  const { drain } = run;
  const { bucketMs, buckets, marks } = drain.timeline;
  const zero = zeroOf(run);
  const w = WIDTH - PAD.left - PAD.right;
  const px = (ms: number) => PAD.left + ((ms - range.from) / (range.to - range.from)) * w;
  const lanesTop = 28;
  const upTop = lanesTop + LANES * LANE_H + 8;
  const axisY = upTop + UP_H;
  const downBottom = axisY + DOWN_H;
  const out: string[] = [`<g${attrs({ transform: `translate(0,${y0})`, class: 'drain-run', 'data-run': run.role, 'data-requests': drain.ledger.total, 'data-lost': drain.ledger.lost })}>`];
  const tone = run.roleKind !== 'broken' && run.verdict.pass ? '#2e7d32' : '#c62828';
  // The exit is a mark; the title says what the marks cannot: a kill with connections open, or a run that never got that far.
  const end = drain.ledger.exit ? killedSentence(drain.ledger) : drain.ended.detail;
  out.push(text(16, 20, fitted(`${runLabel(run)} · lost ${drain.ledger.lost} of ${drain.ledger.total}${end ? ` · ${end}` : ''}`, WIDTH - 32, 13), { 'font-size': 13, 'font-weight': 600, fill: tone, class: 'title' }));

  const stackUp = buckets.map((b) => BANDS.filter((band) => !band.lost).reduce((s, band) => s + band.of(b), 0));
  const stackDown = buckets.map((b) => BANDS.filter((band) => band.lost).reduce((s, band) => s + band.of(b), 0));
  const upTopValue = Math.max(1, ...stackUp);
  const downTopValue = Math.max(1, ...stackDown);

  // Grid and time axis.
  for (const t of timeTicks(range.from, range.to)) {
    const x = px(t);
    out.push(line(x, upTop, x, downBottom, { stroke: GRID, 'stroke-width': 1 }));
    out.push(text(x, downBottom + 16, seconds(t), { 'font-size': 11, fill: MUTED, 'text-anchor': 'middle' }));
  }
  out.push(line(PAD.left, upTop, PAD.left, downBottom, { stroke: AXIS }));
  out.push(text(PAD.left - 6, upTop + 10, String(upTopValue), { 'font-size': 11, fill: MUTED, 'text-anchor': 'end', class: 'up-max' }));
  out.push(text(PAD.left - 6, axisY - 4, 'answered', { 'font-size': 10, fill: MUTED, 'text-anchor': 'end' }));
  out.push(text(PAD.left - 6, axisY + 12, 'lost', { 'font-size': 10, fill: MUTED, 'text-anchor': 'end' }));
  out.push(text(PAD.left - 6, downBottom, Math.max(0, ...stackDown) === 0 ? 'none' : String(downTopValue), { 'font-size': 11, fill: MUTED, 'text-anchor': 'end', class: 'down-max' }));

  // Bars: one path per band, stacked bucket by bucket.
  const bucketW = Math.max(0.5, px(bucketMs) - px(0));
  const upOffset = buckets.map(() => 0);
  const downOffset = buckets.map(() => 0);
  for (const band of BANDS) {
    const rects: { x: number; y: number; w: number; h: number }[] = [];
    let requests = 0;
    buckets.forEach((b, i) => {
      const v = band.of(b);
      if (v <= 0) return;
      requests += v;
      const x = px(b.atMs - zero);
      if (band.lost) {
        const h = (v / downTopValue) * DOWN_H;
        rects.push({ x, y: axisY + (downOffset[i] as number), w: bucketW, h });
        downOffset[i] = (downOffset[i] as number) + h;
      } else {
        const h = (v / upTopValue) * UP_H;
        upOffset[i] = (upOffset[i] as number) + h;
        rects.push({ x, y: axisY - (upOffset[i] as number), w: bucketW, h });
      }
    });
    if (requests === 0) continue;
    used.add(band.id);
    out.push(`<path${attrs({ d: bandPath(rects), fill: band.color, class: 'band', 'data-outcome': band.id, 'data-requests': requests })}/>`);
  }
  out.push(line(PAD.left, axisY, PAD.left + w, axisY, { stroke: AXIS }));
  if (buckets.length === 0) out.push(text(PAD.left + w / 2, axisY - UP_H / 2, 'no request was recorded', { 'font-size': 12, fill: MUTED, 'text-anchor': 'middle' }));

  // Marks: a vertical line each. Marks closer than MERGE_PX share one label (exit-at-once's
  // signal, readiness, close and exit all fall within a few pixels); labels go into the first
  // lane where they do not overlap an earlier one.
  const placed = MARKS.flatMap((mark) => {
    const at = marks[mark.key];
    return at === undefined ? [] : [{ mark, ms: at - zero, x: px(at - zero), label: mark.label(run) }];
  }).sort((p, q) => p.x - q.x);
  const groups: (typeof placed)[] = [];
  for (const p of placed) {
    const group = groups.at(-1);
    if (group && p.x - (group[0] as (typeof placed)[number]).x < MERGE_PX) group.push(p);
    else groups.push([p]);
  }
  const laneEnds = Array.from({ length: LANES }, () => -Infinity);
  for (const group of groups) {
    const first = group[0] as (typeof placed)[number];
    const label = group.map((p) => p.label).join(' · ');
    const labelW = label.length * 11 * GLYPH_EM;
    const anchorEnd = first.x + labelW + 4 > WIDTH - 8;
    const left = anchorEnd ? first.x - labelW - 3 : first.x + 3;
    let lane = laneEnds.findIndex((end) => end < left - 4);
    if (lane < 0) lane = laneEnds.indexOf(Math.min(...laneEnds));
    laneEnds[lane] = left + labelW;
    const labelY = lanesTop + (lane + 1) * LANE_H - 2;
    for (const p of group) {
      out.push(`<g${attrs({ class: 'mark', 'data-mark': p.mark.key, 'data-ms': fmt(Math.round(p.ms * 10) / 10) })}>`);
      out.push(line(p.x, labelY + 2, p.x, downBottom, { stroke: p.mark.color, 'stroke-width': 1.5, 'stroke-dasharray': p.mark.dash }));
      out.push('</g>');
    }
    out.push(text(anchorEnd ? first.x - 3 : first.x + 3, labelY, label, { 'font-size': 11, fill: group.length === 1 ? first.mark.color : TEXT, 'text-anchor': anchorEnd ? 'end' : 'start', class: 'mark-label' }));
  }
  out.push('</g>');
  return out.join('\n');
}

/** The SVG timeline of every run of a document whose runs are all load-and-signal runs. */
export function renderDrainSvg(doc: ReproDocument, runs: RunDocument[], options: { header?: boolean } = {}): string {
  const drainRuns = runs.filter(isDrainRun);
  const header = options.header ?? true;
  const top = header ? HEADER : 8;
  const range = span(drainRuns);
  const used = new Set<string>();
  const panels = drainRuns.map((run, i) => panel(run, top + i * PANEL_H, range, used));
  // Legend: the bands drawn (wrapped into rows), then how to read the picture.
  const legendTop = top + drainRuns.length * PANEL_H + 14;
  const items: { band: Band; label: string; x: number; y: number }[] = [];
  let x = 16;
  let row = 0;
  for (const band of BANDS.filter((b) => used.has(b.id))) {
    const label = `${band.label}${band.lost ? ' ✗' : ''}`;
    const wItem = 16 + label.length * 11 * GLYPH_EM + 14;
    if (x + wItem > WIDTH - 16 && x > 16) {
      x = 16;
      row += 1;
    }
    items.push({ band, label, x, y: legendTop + row * 16 });
    x += wItem;
  }
  const noteY = legendTop + (items.length ? row + 1 : 0) * 16 + 4;
  const height = noteY + 12;
  const { status, text: said } = headline(doc);
  const verdictColor = status === 'pass' ? '#2e7d32' : status === 'fail' ? '#c62828' : '#b45309';
  const title = documentTitle(doc);
  const out = [
    `<svg${attrs({ xmlns: 'http://www.w3.org/2000/svg', width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-labelledby': 'repro-title repro-desc', 'font-family': 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif' })}>`,
    `<title id="repro-title">${esc(title)}</title>`,
    `<desc id="repro-desc">${esc(`Requests by outcome over time, by when each started; 0 is the signal. ${status.toUpperCase()}: ${said}`)}</desc>`,
    `<rect${attrs({ width: WIDTH, height, fill: '#ffffff' })}/>`,
  ];
  if (header) {
    out.push(text(16, 28, fitted(title, WIDTH - 32, 17), { 'font-size': 17, 'font-weight': 600, fill: TEXT, class: 'heading' }));
    out.push(text(16, 52, fitted(`${status.toUpperCase()}: ${said}`, WIDTH - 32, 14), { 'font-size': 14, 'font-weight': 600, fill: verdictColor, class: 'verdict' }));
  }
  out.push(...panels);
  out.push(`<g${attrs({ class: 'legend' })}>`);
  for (const item of items) {
    out.push(`<rect${attrs({ x: fmt(item.x), y: fmt(item.y - 9), width: 11, height: 11, fill: item.band.color, 'data-outcome': item.band.id })}/>`);
    out.push(text(item.x + 16, item.y, item.label, { 'font-size': 11, fill: TEXT }));
  }
  out.push(text(16, noteY, fitted('Bars: requests by when they started, answers above the axis, losses (✗) below on their own scale; 0 s is the signal.', WIDTH - 32, 11), { 'font-size': 11, fill: MUTED }));
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
