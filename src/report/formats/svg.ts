/**
 * `--svg FILE`: fds against reload number as a self-contained SVG. One panel
 * per run, side by side on a shared fd scale, because a broken run ends at
 * EMFILE after a few dozen reloads while the correct one runs hundreds: on one
 * shared x axis the climb would be a sliver. Each panel has the fd limit as a
 * dashed line and the EMFILE point marked. No scripts, fonts or links.
 * A document of load-and-signal runs gets the requests timeline instead (src/kinds/drain/svg.ts);
 * one whose runs have a sample each (ledgers, trials) gets each run's rows as a card.
 */
import type { ReproDocument, RunDocument } from '../../model/run-document.js';
import { runsOf } from '../../model/baseline.js';
import { maxOf } from '../../model/stats.js';
import { documentTitle, emfileMark, headline, requestsOf, runLabel, runRows, seriesTone } from '../facts.js';
import { ellipsize, fitLine } from '../text.js';
import { decimate, niceTicks, type Point } from './scale.js';
import { renderDrainSvg } from '../../kinds/drain/svg.js';
import { attrs, esc } from './xml.js';
import { LOAD_PANEL_H, reloadLoadPanel } from '../../kinds/tree/load-svg.js';
import { latencyOf, renderLatencySvg } from '../../kinds/ledger/latency-svg.js';

export const COLORS = { red: '#c62828', green: '#2e7d32', limit: '#6b7280', grid: '#e5e7eb', axis: '#374151', text: '#111827', muted: '#4b5563', amber: '#b45309' };

const PANEL_H = 300;
const PAD = { left: 64, right: 24, top: 40, bottom: 56 };
const HEADER = 72;

export function seriesColor(run: RunDocument): string {
  return COLORS[seriesTone(run)];
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function line(x1: number, y1: number, x2: number, y2: number, extra: Record<string, string | number | undefined>): string {
  return `<line${attrs({ x1: fmt(x1), y1: fmt(y1), x2: fmt(x2), y2: fmt(y2), ...extra })}/>`;
}

function text(x: number, y: number, body: string, extra: Record<string, string | number | undefined> = {}): string {
  return `<text${attrs({ x: fmt(x), y: fmt(y), ...extra })}>${esc(body)}</text>`;
}

/** The top of the fd axis shared by all panels, and a limit too far above the data to draw to scale. */
function yScaleFor(runs: RunDocument[]): { ticks: number[]; offChart: number | null } {
  const dataTop = maxOf(runs.flatMap((r) => r.samples.map((s) => s.fds)), 1);
  const limit = maxOf(runs.map((r) => r.ulimit ?? 0), 0);
  const offChart = limit > 4 * dataTop ? limit : null;
  const top = Math.max(dataTop, offChart === null ? limit : 0) * 1.08;
  return { ticks: niceTicks(top, 6), offChart };
}

/** Average glyph width of the sans-serif fonts used, as a fraction of the font size (generous: digits and capitals are wide). */
const GLYPH_EM = 0.62;

/** Text cut with `…` so that it fits `widthPx` at `fontPx` (SVG text does not wrap). */
function fitted(body: string, widthPx: number, fontPx: number): string {
  return ellipsize(body, Math.max(8, Math.floor(widthPx / (fontPx * GLYPH_EM))));
}

function panelTitle(run: RunDocument): string {
  const at = run.measured.emfileAtReload;
  const v = run.measured;
  if (at !== null) return `${runLabel(run)} · ${v.registerFailure ?? 'EMFILE'} at reload ${at}`;
  return `${runLabel(run)} · ${v.baselineFds} → ${v.finalFds} fds over ${run.samples.at(-1)?.reload ?? 0} reloads`;
}

function panel(run: RunDocument, x0: number, y0: number, panelW: number, yTicks: number[], offChart: number | null, first: boolean): string {
  const out: string[] = [`<g${attrs({ transform: `translate(${x0},${y0})`, 'data-run': run.role })}>`];
  const w = panelW - PAD.left - PAD.right;
  const h = PANEL_H - PAD.top - PAD.bottom;
  const yTop = yTicks.at(-1) as number;
  const last = run.samples.at(-1);
  // The same point the terminal chart marks (facts.emfileMark).
  const hit = emfileMark(run);
  const lastReload = Math.max(1, last?.reload ?? 1, hit?.reload ?? 0);
  const xTicks = niceTicks(lastReload, 5);
  const xTop = xTicks.at(-1) as number;
  const px = (reload: number) => PAD.left + (reload / xTop) * w;
  const py = (fds: number) => PAD.top + h - (fds / yTop) * h;
  const color = seriesColor(run);
  out.push(text(16, 22, fitted(panelTitle(run), panelW - 32, 14), { 'font-size': 14, 'font-weight': 600, fill: color }));
  for (const t of yTicks) {
    out.push(line(PAD.left, py(t), PAD.left + w, py(t), { stroke: COLORS.grid, 'stroke-width': 1 }));
    out.push(text(PAD.left - 8, py(t) + 4, String(t), { 'font-size': 11, fill: COLORS.muted, 'text-anchor': 'end' }));
  }
  for (const t of xTicks) {
    out.push(line(px(t), PAD.top + h, px(t), PAD.top + h + 5, { stroke: COLORS.axis }));
    out.push(text(px(t), PAD.top + h + 18, String(t), { 'font-size': 11, fill: COLORS.muted, 'text-anchor': 'middle' }));
  }
  out.push(line(PAD.left, PAD.top, PAD.left, PAD.top + h, { stroke: COLORS.axis }));
  out.push(line(PAD.left, PAD.top + h, PAD.left + w, PAD.top + h, { stroke: COLORS.axis }));
  out.push(text(PAD.left + w / 2, PAD.top + h + 38, 'reload', { 'font-size': 12, fill: COLORS.text, 'text-anchor': 'middle' }));
  if (first) out.push(text(16, PAD.top + h / 2, 'open fds', { 'font-size': 12, fill: COLORS.text, 'text-anchor': 'middle', transform: `rotate(-90 16 ${fmt(PAD.top + h / 2)})` }));
  const limit = run.ulimit;
  if (offChart === null && limit !== null) {
    out.push(line(PAD.left, py(limit), PAD.left + w, py(limit), { stroke: COLORS.limit, 'stroke-width': 1.5, 'stroke-dasharray': '6 4', class: 'limit' }));
    // Below the line at the left: a leak climbs towards the limit at the right, where the EMFILE label goes.
    out.push(text(PAD.left + 6, py(limit) + 15, `limit (ulimit -n) ${limit}`, { 'font-size': 11, fill: COLORS.limit }));
  } else if (limit !== null) {
    out.push(text(PAD.left + w, PAD.top - 6, `limit ${limit}: far above, not drawn`, { 'font-size': 11, fill: COLORS.limit, 'text-anchor': 'end' }));
  }
  const points: Point[] = run.samples.map((s) => ({ x: s.reload, y: s.fds }));
  if (points.length === 0) {
    out.push(text(PAD.left + w / 2, PAD.top + h / 2, 'no samples: the child ended before its baseline', { 'font-size': 12, fill: COLORS.muted, 'text-anchor': 'middle' }));
  } else {
    const drawn = decimate(points, Math.floor(w));
    const d = drawn.map((p) => `${fmt(px(p.x))},${fmt(py(p.y))}`).join(' ');
    out.push(`<polyline${attrs({ points: drawn.length === 1 ? `${d} ${d}` : d, fill: 'none', stroke: color, 'stroke-width': 2.25, 'stroke-linejoin': 'round', class: 'series' })}/>`);
  }
  if (hit) {
    const cx = px(hit.reload);
    const cy = py(hit.fds);
    out.push(`<g${attrs({ class: 'emfile', 'data-reload': hit.reload })}>`);
    out.push(`<circle${attrs({ cx: fmt(cx), cy: fmt(cy), r: 7, fill: '#ffffff', stroke: color, 'stroke-width': 2 })}/>`);
    out.push(line(cx - 4, cy - 4, cx + 4, cy + 4, { stroke: color, 'stroke-width': 2 }));
    out.push(line(cx - 4, cy + 4, cx + 4, cy - 4, { stroke: color, 'stroke-width': 2 }));
    // Above the point (EMFILE comes at the limit, and above it the plot is empty), on whichever side has room.
    const right = cx < PAD.left + w * 0.6;
    out.push(text(right ? cx + 12 : cx - 12, cy - 12, `${run.measured.registerFailure ?? 'EMFILE'} at reload ${hit.reload}${hit.sampled ? ` (${hit.fds} fds)` : ''}`, { 'font-size': 12, 'font-weight': 600, fill: color, 'text-anchor': right ? 'start' : 'end' }));
    out.push('</g>');
  }
  // watch --url: the requests of each reload window, under the fds on the same reload axis.
  if (run.reloadLoad) out.push(reloadLoadPanel(run, { top: PANEL_H - 8, left: PAD.left, width: w, px, step: w / xTop }));
  out.push('</g>');
  return out.join('\n');
}

const CARD_FONT = 12;
const CARD_LINE = 18;

/** One run's rows as a card shows them: the label column's width, and each value wrapped in what is left. */
interface CardText {
  labelChars: number;
  lines: { label: string; text: string }[];
}

/** One run's rows (what the terminal summary says of it) as wrapped text lines, for a run with nothing drawn over reloads. */
function cardText(run: RunDocument, widthPx: number): CardText {
  const rows = runRows(run);
  const labelChars = Math.max(...rows.map(([k]) => k.length), 4) + 2;
  const chars = Math.max(20, Math.floor(widthPx / (CARD_FONT * GLYPH_EM)));
  const lines = rows.flatMap(([label, value]) => fitLine(value, Math.max(12, chars - labelChars), 0).map((l, i) => ({ label: i === 0 ? label : '', text: l })));
  return { labelChars, lines };
}

function card(run: RunDocument, { labelChars, lines }: CardText, x0: number, y0: number, cardW: number): string {
  const color = seriesColor(run);
  const labelPx = labelChars * CARD_FONT * GLYPH_EM;
  const out = [`<g${attrs({ transform: `translate(${x0},${y0})`, 'data-run': run.role, class: 'card' })}>`];
  out.push(text(16, 22, fitted(runLabel(run), cardW - 32, 14), { 'font-size': 14, 'font-weight': 600, fill: color }));
  out.push(line(16, 32, cardW - 16, 32, { stroke: color, 'stroke-width': 1.5 }));
  lines.forEach((l, i) => {
    const y = 52 + i * CARD_LINE;
    if (l.label) out.push(text(16, y, l.label, { 'font-size': CARD_FONT, fill: COLORS.muted }));
    out.push(text(16 + labelPx, y, l.text, { 'font-size': CARD_FONT, fill: COLORS.text }));
  });
  out.push('</g>');
  return out.join('\n');
}

/** Runs of one sample each (a ledger's, trials'): no line over reloads to draw, in any view. */
export function oneSampleEach(runs: readonly RunDocument[]): boolean {
  return runs.length > 0 && runs.every((r) => r.samples.length <= 1);
}


/** `header: false` leaves out the title and verdict lines, for pages that show them already. */
export function renderSvg(doc: ReproDocument, options: { header?: boolean } = {}): string {
  const runs = runsOf(doc);
  // Load-and-signal runs have one sample, no fd growth: their picture is the requests over time.
  if (runs.length > 0 && runs.every((r) => requestsOf(r) !== undefined)) return renderDrainSvg(doc, runs, options);
  // signal-during-request: each request's latency over time, the signals and the bound (one sample, no fd growth).
  if (runs.length > 0 && runs.every((r) => latencyOf(r) !== undefined)) return renderLatencySvg(doc, runs, options);
  const header = options.header ?? true;
  const top = header ? HEADER : 8;
  const { ticks, offChart } = yScaleFor(runs);
  // One run gets a wide panel; two share the width a README or report shows without scrolling.
  const panelW = runs.length === 1 ? 800 : 488;
  const width = panelW * runs.length + 16;
  const underLoad = runs.some((r) => r.reloadLoad !== undefined);
  // A sample each (a ledger's, trials') is no line over reloads: each run's rows instead of empty axes.
  const cards = oneSampleEach(runs) ? runs.map((r) => cardText(r, panelW - 32)) : undefined;
  const height = top + (cards ? 52 + maxOf(cards.map((c) => c.lines.length), 1) * CARD_LINE : PANEL_H + (underLoad ? LOAD_PANEL_H : 0)) + 8;
  const { status, text: said } = headline(doc);
  const verdictColor = status === 'pass' ? COLORS.green : status === 'fail' ? COLORS.red : COLORS.amber;
  const title = documentTitle(doc);
  // The heading must fit the picture: the command inside it is cut first, then the whole line if still too long.
  const headingChars = Math.floor((width - 32) / (17 * GLYPH_EM));
  const fixedChars = [...documentTitle(doc, 0)].length - 1;
  const heading = ellipsize(documentTitle(doc, Math.max(12, headingChars - fixedChars)), headingChars);
  const out = [
    `<svg${attrs({ xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'repro-title repro-desc', 'font-family': 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif' })}>`,
    `<title id="repro-title">${esc(title)}</title>`,
    `<desc id="repro-desc">${esc(`${cards ? 'What each run showed' : 'Open fds after each reload'}${underLoad ? ', and under them the requests of each reload window (answered above the axis, lost below)' : ''}. ${status.toUpperCase()}: ${said}`)}</desc>`,
    `<rect${attrs({ width, height, fill: '#ffffff' })}/>`,
  ];
  if (header) {
    out.push(text(16, 28, heading, { 'font-size': 17, 'font-weight': 600, fill: COLORS.text, class: 'heading' }));
    out.push(text(16, 52, fitted(`${status.toUpperCase()}: ${said}`, width - 32, 14), { 'font-size': 14, 'font-weight': 600, fill: verdictColor, class: 'verdict' }));
  }
  runs.forEach((run, i) => out.push(cards ? card(run, cards[i] as CardText, 8 + i * panelW, top, panelW) : panel(run, 8 + i * panelW, top, panelW, ticks, offChart, i === 0)));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
