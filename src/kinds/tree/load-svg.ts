/**
 * watch --url's panel in the SVG (and so in the HTML): the requests of each
 * reload window, drawn under the fds panel on the same reload axis, so a
 * reload that lost requests sits under the fds it left. Answers stack above
 * the axis; losses stack below it by class, on a scale of their own (a
 * reload loses a handful of the hundreds it answers). Each signal is a mark
 * over its window: filled when repro saw the reload take effect, hollow when
 * it never did. Pure: run → SVG fragment.
 */
import type { LossClass, ReloadWindow, RunDocument } from '../../model/run-document.js';
import { maxOf } from '../../model/stats.js';
import { attrs, esc } from '../../report/formats/xml.js';
import { niceTicks } from '../../report/formats/scale.js';

/** Height the panel adds under the fds panel. */
export const LOAD_PANEL_H = 200;

/** One stacked band of a window's bar. */
interface Band {
  label: string;
  color: string;
  of: (w: ReloadWindow) => number;
}

/** Above the axis: what was answered. */
const ANSWERS: readonly Band[] = [
  { label: '2xx', color: '#2e7d32', of: (w) => w.ok },
  { label: '4xx (an answer)', color: '#7c3aed', of: (w) => w.otherStatus },
];

/** Below the axis: what was lost, by class, in the drain picture's colours. */
const LOSSES: readonly (Band & { lossClass: LossClass })[] = [
  { lossClass: 'refused', label: 'refused', color: '#f472b6', of: (w) => w.lostBy.refused ?? 0 },
  { lossClass: 'reset', label: 'reset', color: '#c62828', of: (w) => w.lostBy.reset ?? 0 },
  { lossClass: '5xx', label: '5xx', color: '#1d4ed8', of: (w) => w.lostBy['5xx'] ?? 0 },
  { lossClass: 'cut', label: 'cut', color: '#ea580c', of: (w) => w.lostBy.cut ?? 0 },
  { lossClass: 'timeout', label: 'timeout', color: '#78350f', of: (w) => w.lostBy.timeout ?? 0 },
];

const TEXT = '#111827';
const MUTED = '#4b5563';
const AXIS = '#374151';
const AMBER = '#b45309';

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function rect(x: number, y: number, w: number, h: number, extra: Record<string, string | number>): string {
  return `<rect${attrs({ x: fmt(x), y: fmt(y), width: fmt(w), height: fmt(h), ...extra })}/>`;
}

function label(x: number, y: number, body: string, extra: Record<string, string | number> = {}): string {
  return `<text${attrs({ x: fmt(x), y: fmt(y), 'font-size': 11, fill: MUTED, ...extra })}>${esc(body)}</text>`;
}

/** Where the panel sits: its top inside the run's group, and the reload axis the fds panel above uses. */
export interface LoadPanelFrame {
  /** y of the panel's top, in the run group's coordinates. */
  top: number;
  /** x of the plot's left edge and its width. */
  left: number;
  width: number;
  /** The x of a reload number (the fds panel's own mapping). */
  px: (reload: number) => number;
  /** Pixels between two consecutive reloads on that axis. */
  step: number;
}

/** The stacked bar of one window: answers up from the axis, losses down. */
function windowBar(w: ReloadWindow, f: LoadPanelFrame, axisY: number, upPx: (n: number) => number, downPx: (n: number) => number): string[] {
  const barW = Math.max(1, Math.min(18, f.step * 0.7));
  const x = f.px(w.reload) - barW / 2;
  const out = [`<g${attrs({ class: 'window', 'data-reload': w.reload, 'data-ok': w.ok, 'data-lost': w.lost })}>`];
  let y = axisY;
  for (const b of ANSWERS) {
    const h = upPx(b.of(w));
    if (h <= 0) continue;
    y -= h;
    out.push(rect(x, y, barW, h, { fill: b.color }));
  }
  y = axisY;
  for (const b of LOSSES) {
    const n = b.of(w);
    if (n <= 0) continue;
    // A single lost request still shows: at least 2 px.
    const h = Math.max(2, downPx(n));
    out.push(rect(x, y, barW, h, { fill: b.color, class: `lost ${b.lossClass}` }));
    y += h;
  }
  out.push('</g>');
  return out;
}

/** The signal of each reload, over its window: filled when the reload was seen to take effect, hollow when it never was. */
function signalMarks(windows: readonly ReloadWindow[], f: LoadPanelFrame, y: number): string[] {
  return windows
    .filter((w) => w.reload > 0)
    .map((w) => {
      const x = f.px(w.reload);
      const seen = w.tookEffectMs !== undefined;
      const points = `${fmt(x - 4)},${fmt(y - 7)} ${fmt(x + 4)},${fmt(y - 7)} ${fmt(x)},${fmt(y)}`;
      return `<polygon${attrs({ points, fill: seen ? TEXT : '#ffffff', stroke: seen ? TEXT : AMBER, 'stroke-width': 1.25, class: seen ? 'signal took-effect' : 'signal not-seen', 'data-reload': w.reload })}/>`;
    });
}

/** The legend line: what the marks mean at the left, the bands drawn at the right. */
function legend(windows: readonly ReloadWindow[], f: LoadPanelFrame, y: number): string[] {
  const out: string[] = [];
  const present = [...ANSWERS.filter((b) => windows.some((w) => b.of(w) > 0)), ...LOSSES.filter((b) => windows.some((w) => b.of(w) > 0))];
  let x = f.left + f.width;
  for (const b of [...present].reverse()) {
    x -= (b.label.length + 3) * 6.2;
    out.push(rect(x, y - 8, 8, 8, { fill: b.color }));
    out.push(label(x + 11, y, b.label));
  }
  const hollow = windows.some((w) => w.reload > 0 && w.tookEffectMs === undefined);
  out.push(label(f.left - 48, y, hollow ? '▼ signal (took effect) ▽ never seen to' : '▼ signal, each seen to take effect'));
  return out;
}

/**
 * The panel: a title, a legend, the signal marks, answered bars above the axis and lost below. The warm-up
 * window (before the first signal) runs longer than a reload's: its bar is cut at the top with its count, so
 * the reload windows keep the scale.
 */
export function reloadLoadPanel(run: RunDocument, f: LoadPanelFrame): string {
  const load = run.reloadLoad;
  if (!load) return '';
  const windows = load.windows;
  const titleY = f.top + 14;
  const marksY = f.top + 44;
  const upH = 76;
  const downH = 40;
  const axisY = marksY + 8 + upH;
  const reloads = windows.filter((w) => w.reload > 0);
  const upTicks = niceTicks(maxOf((reloads.length ? reloads : windows).map((w) => w.ok + w.otherStatus), 1), 2);
  const upTop = upTicks.at(-1) as number;
  const downTop = maxOf(windows.map((w) => w.lost), 0);
  const upPx = (n: number) => (Math.min(n, upTop) / upTop) * upH;
  const downPx = (n: number) => (downTop === 0 ? 0 : (n / downTop) * downH);
  const out = [`<g${attrs({ class: 'reload-load', 'data-total': load.total, 'data-lost': load.lost })}>`];
  out.push(`<text${attrs({ x: fmt(f.left - 48), y: fmt(titleY), 'font-size': 12, 'font-weight': 600, fill: TEXT })}>${esc(`requests per reload window (${load.method}, ${load.concurrency} clients): ${load.lost} of ${load.total} lost`)}</text>`);
  out.push(...legend(windows, f, titleY + 16));
  for (const t of upTicks) out.push(label(f.left - 8, axisY - upPx(t) + 4, String(t), { 'text-anchor': 'end' }));
  if (downTop > 0) out.push(label(f.left - 8, axisY + downH + 4, `${downTop} lost`, { 'text-anchor': 'end', fill: '#c62828' }));
  out.push(`<line${attrs({ x1: fmt(f.left), y1: fmt(axisY), x2: fmt(f.left + f.width), y2: fmt(axisY), stroke: AXIS })}/>`);
  for (const w of windows) out.push(...windowBar(w, f, axisY, upPx, downPx));
  const warm = windows.find((w) => w.reload === 0);
  if (warm && warm.ok + warm.otherStatus > upTop) out.push(label(f.px(0) + 10, axisY - upH + 10, `${warm.ok + warm.otherStatus} before the first signal`));
  out.push(...signalMarks(windows, f, marksY));
  if (load.lost === 0) out.push(label(f.left + f.width / 2, axisY + 18, 'not one request lost', { 'text-anchor': 'middle', fill: '#2e7d32' }));
  out.push(label(f.left + f.width / 2, axisY + downH + 22, 'reload window (0: before the first signal)', { 'text-anchor': 'middle', fill: TEXT, 'font-size': 12 }));
  out.push('</g>');
  return out.join('\n');
}
