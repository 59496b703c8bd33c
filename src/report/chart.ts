/**
 * Terminal line chart of fds against reloads. asciichart draws each series;
 * we draw them on one shared scale and overlay them, so each keeps its own
 * line style (the limit dashed, the first series light, the second heavy,
 * the third double) and colour, and the chart still reads with NO_COLOR.
 */
import asciichart from 'asciichart';
import { Chalk, type ChalkInstance } from 'chalk';
import { maxOf } from '../model/stats.js';

export interface ChartSeries {
  label: string;
  /** values[i] is the fd count after reload i. */
  values: readonly number[];
  color: 'red' | 'green' | 'cyan' | 'magenta' | 'yellow';
  /**
   * EMFILE, marked ✖: the index on the x axis (it may be `values.length`, one
   * past the last value, for a program that died before that reload was
   * sampled) and the fd count to draw it at. See facts.emfileMark.
   */
  mark?: { index: number; fds: number } | null;
}

export interface ChartOptions {
  /** The fd limit, drawn as a dashed line. */
  limit?: number;
  /** Total width in columns, axis included. */
  width: number;
  height: number;
  color: boolean;
  /** The reload number at the right end of the x axis (defaults to the longest series' last index). */
  lastX?: number;
  /** What the x axis counts, under it (default `reload →`; `probe --watch` counts samples in time). */
  xLabel?: string;
}

/** `text` with its middle near the middle of `columns` (`reload →` stays where it always was). */
const centred = (text: string, columns: number) => text.padStart(Math.floor(columns / 2) + Math.ceil([...text].length / 2));

type Symbols = [string, string, string, string, string, string, string, string, string, string];
const DASHED: Symbols = ['┼', '┤', '╌', '╌', '╌', '╰', '╭', '╮', '╯', '╎'];
/** One line style per series, so that without colour each is still told apart (the legend shows the same glyph). */
const SERIES_LINES: readonly Symbols[] = [
  ['┼', '┤', '╶', '╴', '─', '╰', '╭', '╮', '╯', '│'],
  ['┼', '┤', '╺', '╸', '━', '┗', '┏', '┓', '┛', '┃'],
  ['┼', '┤', '═', '═', '═', '╚', '╔', '╗', '╝', '║'],
];
const lineOf = (i: number) => SERIES_LINES[i % SERIES_LINES.length] as Symbols;
const LABEL_WIDTH = 6;
const OFFSET = LABEL_WIDTH + 2;

/** Resamples values onto `columns` columns: the largest value in each column's span of reloads. */
export function resample(values: readonly number[], totalPoints: number, columns: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * totalPoints) / columns);
    const to = Math.max(from + 1, Math.floor(((c + 1) * totalPoints) / columns));
    if (from >= values.length) break;
    let max = -Infinity;
    for (let i = from; i < Math.min(to, values.length); i++) max = Math.max(max, values[i] as number);
    out.push(max);
  }
  return out;
}

/** A whole number of fds per row; better still, one that puts the limit exactly on a row (inherited fds can take the top a little past it). */
function rowStep(top: number, options: ChartOptions): number {
  const step = Math.max(1, Math.ceil(top / options.height));
  const limit = options.limit;
  if (limit === undefined || limit <= 0 || top > limit * 1.2) return step;
  const near = [0, 1, 2, 3, 4, -1, 5, -2, 6, -3].map((d) => options.height + d).find((h) => h > 1 && limit % h === 0);
  return near === undefined ? step : limit / near;
}

type Cell = { ch: string; color?: string };

/** Every layer's plot laid over the others, cell by cell, each cell keeping its layer's colour. */
function overlay(layers: readonly { lines: string[]; color: string }[], rows: number, columns: number): Cell[][] {
  const grid: Cell[][] = [];
  for (let r = 0; r < rows; r++) {
    // asciichart writes the label as one cell, so find the axis by its character, not by column.
    const base = layers[0]?.lines[r] ?? '';
    const axisAt = base.search(/[┤┼]/);
    const label = base.slice(0, axisAt).trim().padStart(LABEL_WIDTH);
    const row: Cell[] = [...`${label} ┤`].map((ch) => ({ ch }));
    for (let c = 0; c < columns; c++) row.push({ ch: ' ' });
    for (const layer of layers) {
      const line = layer.lines[r] ?? '';
      const data = line.slice(line.search(/[┤┼]/) + 1);
      for (let c = 0; c < columns; c++) {
        const ch = data[c];
        if (ch && ch !== ' ') row[OFFSET + c] = { ch, color: layer.color };
      }
    }
    grid.push(row);
  }
  return grid;
}

/** The legend line: each series in its style, the limit, a limit far above, the EMFILE mark. */
function legendOf(series: readonly ChartSeries[], paint: ChalkInstance, limit: number | undefined, offChart: number | undefined): string {
  return [
    ...series.map((s, i) => `${paint[s.color](lineOf(i)[4].repeat(2))} ${s.label}`),
    ...(limit !== undefined ? [`${paint.gray('╌╌')} limit ${limit}`] : []),
    ...(offChart !== undefined ? [`limit ${offChart} (far above)`] : []),
    ...(series.some((s) => s.mark) ? ['✖ EMFILE'] : []),
  ].join('   ');
}

export function renderChart(series: readonly ChartSeries[], input: ChartOptions): string {
  const paint: ChalkInstance = new Chalk({ level: input.color ? 1 : 0 });
  // A limit far above the data would flatten it to nothing: scale to the data and name the limit instead.
  const dataTop = maxOf(series.flatMap((s) => [...s.values, s.mark?.fds ?? 0]), 1);
  const offChart = input.limit !== undefined && input.limit > 4 * dataTop ? input.limit : undefined;
  const options: ChartOptions = offChart === undefined ? input : { ...input, limit: undefined };
  // A mark one past the last value (EMFILE before that reload was sampled) needs its own column.
  const totalPoints = maxOf(series.map((s) => Math.max(s.values.length, (s.mark?.index ?? -1) + 1)), 1);
  const columns = Math.max(10, Math.min(options.width - OFFSET - 1, Math.max(totalPoints, 40)));
  const all = series.flatMap((s) => (s.mark ? [...s.values, s.mark.fds] : s.values));
  // A whole number of fds per row, so every row label is exact.
  const top = maxOf(all, Math.max(options.limit ?? 0, 1));
  const step = rowStep(top, options);
  const height = Math.ceil(top / step);
  const max = step * height;
  const cfg = {
    min: 0,
    max,
    height,
    offset: OFFSET,
    format: (x: number) => x.toFixed(0).padStart(LABEL_WIDTH),
  };
  const layers: { lines: string[]; color: ChartSeries['color'] | 'gray' }[] = [];
  if (options.limit !== undefined) {
    layers.push({ lines: asciichart.plot(new Array<number>(columns).fill(options.limit), { ...cfg, symbols: DASHED }).split('\n'), color: 'gray' });
  }
  const resampled = series.map((s) => resample(s.values, totalPoints, columns));
  for (const [i, s] of series.entries()) {
    const values = resampled[i] as number[];
    layers.push({ lines: asciichart.plot(values.length > 1 ? values : [...values, ...values], { ...cfg, symbols: lineOf(i) }).split('\n'), color: s.color });
  }
  const rows = layers[0]?.lines.length ?? 0;
  const grid = overlay(layers, rows, columns);
  // ✖ where a series hit its register failure, on that value's row.
  const rowOf = (v: number) => {
    const ratio = height / max;
    return rows - 1 - Math.round(v * ratio);
  };
  for (const s of series) {
    if (!s.mark) continue;
    const column = Math.min(columns - 1, Math.floor((s.mark.index * columns) / totalPoints));
    const r = rowOf(s.mark.fds);
    const cell = grid[r]?.[OFFSET + column];
    if (cell) {
      cell.ch = '✖';
      cell.color = s.color;
    }
  }
  const body = grid.map((row) => row.map((cell) => (cell.color ? paint[cell.color as 'red'](cell.ch) : cell.ch)).join('').trimEnd());
  const lastReload = options.lastX ?? totalPoints - 1;
  const xAxis = `${' '.repeat(OFFSET - 1)}└${'─'.repeat(columns)}`;
  const right = `${lastReload}`;
  const xLabels = `${' '.repeat(OFFSET - 1)}0${' '.repeat(Math.max(1, columns - right.length))}${right}`;
  const title = `${' '.repeat(OFFSET - 1)}${centred(options.xLabel ?? 'reload →', columns)}`;
  const legend = legendOf(series, paint, options.limit, offChart);
  return [`${' '.repeat(OFFSET - 4)}fds`, ...body, xAxis, xLabels, title, `${' '.repeat(OFFSET - 1)}${legend}`].join('\n');
}
