/**
 * signal-during-request's picture in the SVG (and so in the HTML): one panel
 * per run, each request's latency against when it was sent, every signal a
 * vertical mark (filled red when it stalled the requests in flight, grey when
 * it did not) and the bound the signals were read against as a dashed line.
 * The fd chart says nothing here (one sample, no reloads). Pure: document → SVG.
 */
import type { ReproDocument, RunDocument } from '../../model/run-document.js';
import { maxOf } from '../../model/stats.js';
import { documentTitle, headline, runLabel } from '../../report/facts.js';
import { niceTicks } from '../../report/formats/scale.js';
import { attrs, esc } from '../../report/formats/xml.js';
import type { LatencyRecord } from './record.js';

const PANEL_H = 300;
const HEADER = 72;
const PAD = { left: 56, right: 16, top: 40, bottom: 48 };
const C = { text: '#111827', muted: '#4b5563', axis: '#374151', grid: '#e5e7eb', red: '#c62828', green: '#2e7d32', amber: '#b45309', dot: '#6b7280', signal: '#9ca3af' };

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const el = (name: string, a: Record<string, string | number | undefined>) => `<${name}${attrs(a)}/>`;
const text = (x: number, y: number, body: string, a: Record<string, string | number | undefined> = {}) => `<text${attrs({ x: fmt(x), y: fmt(y), 'font-size': 11, fill: C.muted, ...a })}>${esc(body)}</text>`;

/** A run this picture can draw: a ledger run with its latencies. */
export function latencyOf(run: RunDocument): LatencyRecord | undefined {
  return run.measurement === 'ledger' ? run.ledger?.latency : undefined;
}

/** When each signal was sent, ms after the load started. */
function signalTimes(latency: LatencyRecord): number[] {
  return latency.perSignal.map((p) => latency.firstSignalMs + p.atMs);
}

function panel(run: RunDocument, latency: LatencyRecord, x0: number, y0: number, panelW: number): string {
  const w = panelW - PAD.left - PAD.right;
  const h = PANEL_H - PAD.top - PAD.bottom;
  const times = signalTimes(latency);
  const xTicks = niceTicks(maxOf([...latency.requests.map((r) => r.atMs), ...times], 1), 5);
  const yTicks = niceTicks(maxOf([...latency.requests.map((r) => r.latencyMs), latency.boundMs ?? 0], 1) * 1.05, 5);
  const px = (ms: number) => PAD.left + (ms / (xTicks.at(-1) as number)) * w;
  const py = (ms: number) => PAD.top + h - (ms / (yTicks.at(-1) as number)) * h;
  const out = [`<g${attrs({ transform: `translate(${x0},${y0})`, 'data-run': run.role, class: 'latency-panel' })}>`];
  out.push(text(12, 18, `${runLabel(run)} · ${latency.stalledSignals} of ${latency.signals} signals stalled`, { 'font-size': 13, 'font-weight': 600, fill: latency.stalledSignals > 0 ? C.red : C.green }));
  for (const t of yTicks) {
    out.push(el('line', { x1: PAD.left, y1: fmt(py(t)), x2: PAD.left + w, y2: fmt(py(t)), stroke: C.grid }));
    out.push(text(PAD.left - 6, py(t) + 4, String(t), { 'text-anchor': 'end' }));
  }
  for (const t of xTicks) out.push(text(px(t), PAD.top + h + 16, String(t), { 'text-anchor': 'middle' }));
  out.push(el('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: PAD.top + h, stroke: C.axis }));
  out.push(el('line', { x1: PAD.left, y1: PAD.top + h, x2: PAD.left + w, y2: PAD.top + h, stroke: C.axis }));
  out.push(text(PAD.left + w / 2, PAD.top + h + 34, 'ms after the load started (request sent)', { 'text-anchor': 'middle', fill: C.text, 'font-size': 12 }));
  out.push(text(12, PAD.top + h / 2, 'latency, ms', { 'text-anchor': 'middle', fill: C.text, 'font-size': 12, transform: `rotate(-90 12 ${fmt(PAD.top + h / 2)})` }));
  latency.perSignal.forEach((p, k) => {
    const x = px(times[k] as number);
    out.push(el('line', { x1: fmt(x), y1: PAD.top, x2: fmt(x), y2: PAD.top + h, stroke: p.stalled ? C.red : C.signal, 'stroke-width': 1.5, class: p.stalled ? 'signal stalled' : 'signal', 'data-signal': k + 1, 'data-at-ms': fmt(times[k] as number) }));
  });
  // Over the bound in a run where no signal stalled is the machine's own tail: amber, not the red of a stall.
  const overColor = latency.stalledSignals > 0 ? C.red : C.amber;
  for (const r of latency.requests) {
    const over = latency.boundMs !== undefined && r.latencyMs > latency.boundMs;
    out.push(el('circle', { cx: fmt(px(r.atMs)), cy: fmt(py(r.latencyMs)), r: over ? 2 : 1.4, fill: over ? overColor : C.dot, class: over ? 'request over' : 'request' }));
  }
  if (latency.boundMs !== undefined) {
    const y = py(latency.boundMs);
    out.push(el('line', { x1: PAD.left, y1: fmt(y), x2: PAD.left + w, y2: fmt(y), stroke: C.amber, 'stroke-width': 1.5, 'stroke-dasharray': '6 4', class: 'bound', 'data-bound-ms': latency.boundMs }));
    out.push(text(PAD.left + 4, y - 5, `bound ${latency.boundMs} ms (quiet ${latency.quietMs ?? '?'} ms + margin)`, { fill: C.amber }));
  }
  out.push(text(PAD.left + w, PAD.top - 6, '│ SIGUSR1 (red: it stalled the requests in flight)', { 'text-anchor': 'end' }));
  out.push('</g>');
  return out.join('\n');
}

/** The document's picture: a panel per run with its latencies. */
export function renderLatencySvg(doc: ReproDocument, runs: readonly RunDocument[], options: { header?: boolean } = {}): string {
  const header = options.header ?? true;
  const top = header ? HEADER : 8;
  const panelW = runs.length === 1 ? 800 : 420;
  const width = panelW * runs.length + 16;
  const height = top + PANEL_H + 8;
  const { status, text: said } = headline(doc);
  const color = status === 'pass' ? C.green : status === 'fail' ? C.red : C.amber;
  const out = [
    `<svg${attrs({ xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'repro-title repro-desc', 'font-family': 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif' })}>`,
    `<title id="repro-title">${esc(documentTitle(doc))}</title>`,
    `<desc id="repro-desc">${esc(`Each request's latency against when it was sent, each signal marked, the latency bound dashed. ${status.toUpperCase()}: ${said}`)}</desc>`,
    el('rect', { width, height, fill: '#ffffff' }),
  ];
  if (header) {
    out.push(text(16, 28, documentTitle(doc), { 'font-size': 17, 'font-weight': 600, fill: C.text, class: 'heading' }));
    out.push(text(16, 52, `${status.toUpperCase()}: ${said}`, { 'font-size': 14, 'font-weight': 600, fill: color, class: 'verdict' }));
  }
  runs.forEach((run, i) => {
    const latency = latencyOf(run);
    if (latency) out.push(panel(run, latency, 8 + i * panelW, top, panelW));
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
