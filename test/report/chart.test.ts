import { describe, expect, it } from 'vitest';
import { renderChart, resample } from '../../src/report/chart.js';

const plain = { width: 80, height: 12, color: false };
const rows = (chart: string) => chart.split('\n');

describe('resample', () => {
  it('keeps the largest value of each column span so a spike is never hidden', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i === 57 ? 99 : 1));
    expect(resample(values, 100, 10)).toEqual([1, 1, 1, 1, 1, 99, 1, 1, 1, 1]);
  });
  it('stretches a short series over more columns', () => {
    expect(resample([1, 2], 2, 4)).toEqual([1, 1, 2, 2]);
  });
});

describe('renderChart', () => {
  const broken = Array.from({ length: 24 }, (_, i) => 20 + 2 * Math.min(i, 22));

  it('draws the limit exactly on a labelled row, dashed', () => {
    const chart = renderChart([{ label: 'broken', values: broken, color: 'red', mark: { index: 23, fds: broken[23] as number } }], { ...plain, limit: 64 });
    const limitRow = rows(chart).find((r) => r.trimStart().startsWith('64 ┤'));
    expect(limitRow).toContain('╌');
    expect(chart).toContain('╌╌ limit 64');
  });

  it('marks the EMFILE reload with ✖ on the limit row and labels the x axis 0 … last reload', () => {
    const chart = renderChart([{ label: 'broken', values: broken, color: 'red', mark: { index: 23, fds: broken[23] as number } }], { ...plain, limit: 64 });
    expect(rows(chart).find((r) => r.includes('✖'))?.trimStart().startsWith('64 ┤')).toBe(true);
    expect(chart).toMatch(/\n\s+0\s+23\n/);
  });

  it('draws a rising series rising: its first column is on a lower row than its last', () => {
    const chart = renderChart([{ label: 's', values: broken, color: 'red' }], { ...plain, limit: 64 });
    const lines = rows(chart);
    const rowOf = (col: number) => lines.findIndex((l) => /[─╭╮╯╰│]/.test(l[col] ?? ''));
    const axis = lines[1]!.indexOf('┤');
    expect(rowOf(axis + 1)).toBeGreaterThan(rowOf(axis + 38));
  });

  it('scales to the data when the limit is far above it, and names the limit', () => {
    const chart = renderChart([{ label: 'svc', values: [4, 6, 8, 10], color: 'red' }], { ...plain, limit: 20000 });
    expect(chart).not.toContain('╌');
    expect(chart).toContain('limit 20000 (far above)');
    expect(rows(chart)[1]).toMatch(/^\s+10 ┤/);
  });

  it('needs no colour to tell the limit from the data', () => {
    const chart = renderChart([{ label: 'a', values: [1, 2], color: 'red' }], { ...plain, limit: 4 });
    expect(chart).not.toContain('\x1b[');
    expect(chart).toContain('╌');
    expect(chart).toContain('─');
  });
});
