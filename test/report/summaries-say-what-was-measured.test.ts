// The summaries, charts and headers say what was measured and nothing else: a value never
// measured is a dash with the reason, a watched command is quoted as a shell would need it and cut
// visibly, a final count above the limit is explained in every view, a PASS names the gate it
// passed, and the terminal chart marks EMFILE where the SVG does. Real runs through the CLI; the
// chart legend and the geometry are also checked on their own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { renderChart } from '../../src/report/chart.js';
import { commandInTitle, emfileMark } from '../../src/report/facts.js';
import { shellCommand } from '../../src/report/text.js';
import { BIN, type CliResult, repro } from '../support/cli.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-measured-'));
const at = (name: string) => join(dir, name);
const read = (name: string) => readFileSync(at(name), 'utf8');
const json = <T>(name: string) => JSON.parse(read(name)) as T;
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => ['text', 'testcase', 'property', 'g'].includes(n) });

let unmeasured: CliResult;
let quoted: CliResult;
let gated: CliResult;
let died: CliResult;
let inherited: CliResult;

beforeAll(async () => {
  [unmeasured, quoted, gated, died, inherited] = await Promise.all([
    // Exits at once: nothing about it is ever measured.
    repro(['watch', '--reloads', '3', '--junit', at('unmeasured.xml'), '--markdown', at('unmeasured.md'), '--html', at('unmeasured.html'), '--', 'python3', '-c', 'import sys; sys.exit(3)']),
    // Run from the fixtures' directory, so the command is short enough to show its quoting before the cut.
    repro(['watch', '--reloads', '2', '--settle', '60', '--svg', at('quoted.svg'), '--html', at('quoted.html'), '--', 'python3', 'banner-mentions-emfile.py', 'a b', "it's", 'x'.repeat(80)], { cwd: service('.') }),
    repro(['watch', '--reloads', '5', '--settle', '60', '--max-growth', '5', '--', 'python3', service('leaks-pipe-per-hup.py')]),
    // Python dies of EMFILE mid-reload, before that reload is sampled.
    repro(['watch', '--ulimit', '32', '--reloads', '30', '--settle', '60', '--out', at('died.json'), '--svg', at('died.svg'), '--', 'python3', service('leaks-more-pipes-each-hup.py')]),
    // Started with fd 99 open: the children inherit it, numbered above their limit of 64.
    execa('bash', ['-c', 'exec 99</dev/null; exec "$0" "$@"', process.execPath, BIN, 'compare', '--reloads', '30', '--no-chart', ...['--out', 'compare.json', '--html', 'compare.html', '--junit', 'compare.xml', '--markdown', 'compare.md'].map((a) => (a.startsWith('--') ? a : at(a)))], {
      reject: false,
      env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' },
    }).then((r) => ({ exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) })),
  ]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('values never measured', () => {
  it('are a dash with the reason, not zeros or "unknown"', () => {
    expect(unmeasured.exitCode).toBe(4);
    const out = unmeasured.stdout;
    // No --ulimit: the header says the limit is the program's own, or that it was never read; never "ulimit -n —".
    expect(out.split('\n')[0]).toMatch(/ · (limit \d+ \(its own\)|limit not read \(the run ended first\))$/);
    expect(out).not.toContain('ulimit -n —');
    // With --ulimit: the header says so.
    expect(died.stdout.split('\n')[0]).toMatch(/ · ulimit -n 32$/);
    // Every value never sampled, for the one reason, is said on one row (issue 22: each fact said once).
    expect(out).toMatch(/\n {2}not measured {5}— baseline fds, final fds, growth, [^\n]*\(never sampled: the run ended before its baseline\)\n/);
    expect(out.match(/never sampled/g)).toHaveLength(1);
    expect(out).not.toMatch(/ulimit -n 0\b|of limit 0\b|fds 0 → 0|unknown by the program|\n {2}baseline fds {5}0\n/);
    // Inconclusive: what the run could not tell is not a FAIL of the program, in any view.
    expect(out).toContain('could not tell: fds not measured: the run ended before its baseline sample');
    expect(out).toContain('could not tell: run ended early: exited with code 3');
    expect(out).not.toContain('FAIL:');
    for (const view of ['unmeasured.md', 'unmeasured.html', 'unmeasured.xml']) {
      expect(read(view), view).toContain('could not tell: fds not measured');
      expect(read(view), view).not.toContain('FAIL:');
    }
    expect(out).toMatch(/signal {11}SIGHUP; whether the program catches it: — \(not read before the run ended\)|signal {11}SIGHUP: the program has (a|no) handler/);
    expect(read('unmeasured.xml')).toContain('fds not measured: the run ended before its baseline sample');
  });
});

describe('the command in headers', () => {
  it('is quoted like a shell and cut with a visible ellipsis in the terminal', () => {
    expect(quoted.exitCode, quoted.stdout).toBe(0);
    const title = quoted.stdout.split('\n')[0] as string;
    const command = /^repro watch · (.*) · SIGHUP × 2 · limit \d+ \(its own\)$/.exec(title)?.[1];
    expect(command).toBe(`python3 banner-mentions-emfile.py 'a b' 'it'\\''s' ${'x'.repeat(9)}…`);
    expect([...(command ?? '')]).toHaveLength(60);
  });

  it('is cut inside a quoted argument with its quote closed', () => {
    const argv = ['/root/.pyenv/versions/3.11.7/bin/python3 x', '/tmp/ru/svc/leak.py'];
    const cut = commandInTitle(argv, 40);
    expect(cut).toBe(`'/root/.pyenv/versions/3.11.7/bin/pyth…'`);
    expect([...cut]).toHaveLength(40);
    expect(commandInTitle(['a b c d e'], 6)).toBe("'a b…'");
    expect(commandInTitle(["it's a", 'x'.repeat(40)], 8)).toBe("'it'\\'…");
    expect(commandInTitle(argv, 200)).toBe(shellCommand(argv));
  });

  it('is given whole, quoted, in the HTML environment table, and the title never breaks inside the limit', () => {
    const text = read('quoted.html');
    const expected = `python3 banner-mentions-emfile.py 'a b' 'it'\\''s' ${'x'.repeat(80)}`;
    expect(text).toContain(`<th scope="row">watch command</th><td>${expected.replace(/'/g, '&#39;')}</td>`);
    expect(text).toMatch(/<h1>repro watch · .* · <span class="nowrap">limit&#160;\d+&#160;\(its&#160;own\)<\/span><\/h1>/);
  });

  it('fits the SVG heading inside the picture', () => {
    const svg = xml.parse(read('quoted.svg')).svg;
    const heading = (svg.text as { '@class'?: string; '#text': string }[]).find((t) => t['@class'] === 'heading')?.['#text'] ?? '';
    expect(heading).toMatch(/^repro watch · python3 .*… · SIGHUP × 2 · limit \d+ \(its own\)$/);
    // 17 px text in a sans-serif font: about 0.6 em a glyph, and the heading starts 16 px in.
    expect(16 + [...heading].length * 17 * 0.6).toBeLessThanOrEqual(Number(svg['@width']));
  });
});

describe('a PASS under a raised gate', () => {
  it('names the gate, not "no fd growth"', () => {
    expect(gated.exitCode, gated.stdout).toBe(0);
    expect(gated.stdout).toContain('PASS: fds surviving ≤ 5/reload and no EMFILE');
    expect(gated.stdout).not.toContain('no fd growth');
    expect(gated.stdout).toMatch(/ok: 2 fds\/reload still open at the end, over reloads 1–3 \(6 pipe in pid \d+\) \(gate: ≤ 5\)/);
  });
});

describe('a final count above the limit', () => {
  const sentence = /final fds (\d+) of limit 64: (\d+) inherited fds? numbered ≥ 64 counts? as open but takes? no slot below the limit/;

  it('is explained by compare, HTML, Markdown and JUnit, in the same words', () => {
    expect(inherited.exitCode, inherited.stderr).toBe(0);
    const doc = json<CompareDocument>('compare.json');
    expect(doc.runs[0]!.fdsAboveLimitAtStart).toBeGreaterThan(0);
    expect(doc.runs[0]!.measured.finalFds).toBeGreaterThan(64);
    const said = sentence.exec(inherited.stdout)?.[0] ?? 'missing';
    expect(Number(sentence.exec(said)?.[1])).toBe(doc.runs[0]!.measured.finalFds);
    expect(inherited.stdout).toContain(`* broken: ${said}`);
    expect(read('compare.html')).toContain(`* broken: ${said}`);
    expect(read('compare.md')).toContain(`\\* broken: ${said}`);
    const cases = xml.parse(read('compare.xml')).testsuites.testsuite.testcase as { properties?: { property: { '@name': string; '@value': string }[] } }[];
    expect(cases[0]?.properties?.property).toEqual([{ '@name': 'final fds', '@value': said }]);
  });
});

describe('EMFILE in the terminal chart and the SVG', () => {
  it('is marked at the same reload and count for a program that died of it before that reload was sampled', () => {
    expect(died.exitCode).toBe(1);
    const doc = json<RunDocument>('died.json');
    const last = doc.samples.at(-1) as RunDocument['samples'][number];
    expect(doc.measured.emfileAtReload).toBe(last.reload + 1);
    expect(emfileMark(doc)).toEqual({ reload: last.reload + 1, fds: last.fds, index: doc.samples.length, sampled: false });
    const svg = read('died.svg');
    expect(svg).toContain(`data-reload="${last.reload + 1}"`);
    const lines = died.stdout.split('\n');
    const marked = lines.find((l) => l.includes('✖') && l.includes('┤')) ?? '';
    // On the row of the last count (rows are a whole number of fds apart: the nearest row when the count
    // falls between two), at the right end of an x axis that reaches the EMFILE reload.
    const labels = lines.filter((l) => /^\s*\d+ [┤┼]/.test(l)).map((l) => Number(l.trim().split(' ')[0]));
    const step = (labels[0] as number) - (labels[1] as number);
    expect(step).toBeGreaterThan(0);
    expect(Number(marked.trim().split(' ')[0])).toBe(Math.round(last.fds / step) * step);
    const axis = lines.findIndex((l) => l.includes('└'));
    expect(lines[axis + 1]?.trim().split(/\s+/)).toEqual(['0', String(last.reload + 1)]);
    expect(marked.trimEnd().endsWith('✖') || marked.indexOf('✖') > marked.length - 4).toBe(true);
  });
});

describe('the terminal chart without colour', () => {
  it('draws and labels each series with its own glyph', () => {
    const chart = renderChart(
      [
        { label: 'broken (pipe)', values: [20, 30, 40, 50, 60], color: 'red' },
        { label: 'correct (pipe)', values: [25, 25, 25, 25, 25], color: 'green' },
      ],
      { width: 80, height: 12, color: false, limit: 64 },
    );
    const legend = chart.split('\n').at(-1) as string;
    expect(legend).toContain('── broken (pipe)');
    expect(legend).toContain('━━ correct (pipe)');
    const body = chart.split('\n').slice(1, -4).join('\n');
    expect(body).toContain('─');
    expect(body).toContain('━');
  });
});

describe('shellCommand', () => {
  it('quotes what a shell would split or expand, and shows control characters', () => {
    expect(shellCommand(['python3', 'a b', "it's", '', '$HOME', 'x\x1b[31my', 'plain-arg_1.py'])).toBe(`python3 'a b' 'it'\\''s' '' '$HOME' $'x\\x1b[31my' plain-arg_1.py`);
    // What it prints, a shell reads back as the same words.
    const words = ['a b', "it's", '$HOME', '*'];
    expect(execFileSync('bash', ['-c', `printf '%s\\n' ${shellCommand(words)}`], { encoding: 'utf8' })).toBe(`${words.join('\n')}\n`);
  });
});
