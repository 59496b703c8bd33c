// Every report format, produced by the real CLI from real runs (a compare, a leaky and a clean
// watched Python service), then checked structurally: schema, XML well-formedness, the elements
// and the numbers each format must carry. The pure pieces are unit-tested in views.test.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareDocument, ReproDocument, RunDocument } from '../../src/model/run-document.js';
import { execa } from 'execa';
import { BIN, type CliResult, repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-formats-'));
const at = (name: string) => join(dir, name);
const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const schema = JSON.parse(readFileSync(new URL('../../schema/run-document.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);
const read = (name: string) => readFileSync(at(name), 'utf8');
const json = <T>(name: string) => JSON.parse(read(name)) as T;
const allFormats = (stem: string) => ['--out', `${stem}.json`, '--svg', `${stem}.svg`, '--html', `${stem}.html`, '--markdown', `${stem}.md`, '--junit', `${stem}.xml`, '--csv', `${stem}.csv`].map((a) => (a.startsWith('--') ? a : at(a)));
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testcase', 'g', 'polyline', 'line', 'text', 'details'].includes(name) });

let compare: CliResult;
let leak: CliResult;
let clean: CliResult;

beforeAll(async () => {
  [compare, leak, clean] = await Promise.all([
    repro(['compare', '--reloads', '60', '--no-chart', ...allFormats('compare')]),
    // Python dies of EMFILE under the low limit: a failing run with a traceback to show.
    repro(['watch', '--ulimit', '32', '--reloads', '30', '--settle', '60', ...allFormats('leak'), '--', 'python3', service('leaks-more-pipes-each-hup.py')]),
    repro(['watch', '--reloads', '8', '--settle', '60', ...allFormats('clean'), '--', 'python3', service('reopens-log-cleanly.py'), at('service.log')]),
  ]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the runs the formats are made from', () => {
  it('exit as their verdicts say', () => {
    expect(compare.exitCode, compare.stderr).toBe(0);
    expect(leak.exitCode, leak.stderr).toBe(1);
    expect(clean.exitCode, clean.stderr).toBe(0);
  });

  it('leave no temp files next to the reports (all written atomically)', () => {
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('run document JSON Schema', () => {
  it.each(['compare.json', 'leak.json', 'clean.json'])('%s validates', (name) => {
    const doc = json<ReproDocument>(name);
    expect(doc.schemaVersion).toBe(2);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('rejects a document with an unknown field, a missing field or a wrong unit type', () => {
    const doc = json<CompareDocument>('compare.json');
    expect(validate({ ...doc, extra: 1 })).toBe(false);
    const noVerdict: Partial<RunDocument> = { ...doc.runs[0]! };
    delete noVerdict.verdict;
    expect(validate(noVerdict)).toBe(false);
    expect(validate({ ...doc.runs[0]!, samples: [{ ...doc.runs[0]!.samples[0], fds: '21' }] })).toBe(false);
    expect(validate({ ...doc, schemaVersion: 1 })).toBe(false);
  });
});

describe('--svg', () => {
  it('is well-formed, self-contained SVG with one panel per run, the limit and the EMFILE point', () => {
    const text = read('compare.svg');
    expect(XMLValidator.validate(text)).toBe(true);
    expect(text).not.toMatch(/<script|href=|url\(/);
    const svg = xml.parse(text).svg;
    expect(svg['@xmlns']).toBe('http://www.w3.org/2000/svg');
    const panels = (svg.g as { '@data-run': string }[]).map((g) => g['@data-run']);
    expect(panels).toEqual(['broken', 'correct']);
    const doc = json<CompareDocument>('compare.json');
    expect(text).toContain(`limit (ulimit -n) ${doc.runs[0]!.ulimit}`);
    expect(text).toContain(`data-reload="${doc.runs[0]!.measured.emfileAtReload}"`);
    expect(text).toContain(`EMFILE at reload ${doc.runs[0]!.measured.emfileAtReload}`);
    // Each panel's line has a vertex per kept sample (60 reloads fit without thinning).
    const polylines = (svg.g as { polyline: { '@points': string }[] }[]).map((g) => g.polyline[0]?.['@points'].split(' ').length);
    expect(polylines).toEqual([doc.runs[0]!.samples.length, doc.runs[1]!.samples.length]);
  });

  it('marks EMFILE where a watched program died of it, past its last sample', () => {
    const doc = json<RunDocument>('leak.json');
    expect(doc.emfileObserved?.evidence).toMatch(/Too many open files/);
    expect(read('leak.svg')).toContain(`EMFILE at reload ${doc.emfileObserved?.reload}`);
  });
});

describe('--html', () => {
  it('is one self-contained, well-formed page that loads nothing', () => {
    const text = read('compare.html');
    expect(XMLValidator.validate(text)).toBe(true);
    expect(text).toContain(`Content-Security-Policy" content="default-src 'none'`);
    expect(text).not.toMatch(/<script|<link|<img|src=|href=|@import/);
  });

  it('carries the chart, the verdict, the summary table, the per-kind growth and the environment', () => {
    const doc = json<CompareDocument>('compare.json');
    const text = read('compare.html');
    expect(text).toContain('<svg');
    expect(text).toContain('PASS: broken leaks to EMFILE, correct stays flat');
    expect(text).toMatch(/<th scope="row">growth\/reload<\/th><td>2\.000<\/td><td>0\.000<\/td>/);
    expect(text).toMatch(/<th scope="row">pipe<\/th><td>\d+ → \d+ \(\+2\.000\/reload\)<\/td><td>\d+ → \d+ \(\+0\.000\/reload\)<\/td>/);
    expect(text).toContain(`<th scope="row">node</th><td>${doc.runs[0]!.platform.node}</td>`);
    expect(text).toContain('<th scope="row">ulimit -n</th><td>broken 64, correct 64</td>');
  });

  it("shows a failed program's output, unfolded", () => {
    const page = xml.parse(read('leak.html')).html.body;
    const stderr = (page.details as { '@open'?: string; pre: string }[]).find((d) => String(d.pre).includes('Too many open files'));
    expect(stderr?.['@open']).toBe('open');
  });
});

describe('--markdown', () => {
  it('has the verdict, the table and a Mermaid chart of the real samples', () => {
    const doc = json<CompareDocument>('compare.json');
    const text = read('compare.md');
    expect(text).toMatch(/^### repro compare · sighup-listener/);
    expect(text).toContain('**✅ PASS: broken leaks to EMFILE, correct stays flat**');
    expect(text).toContain('| growth/reload | 2.000 | 0.000 |');
    const charts = [...text.matchAll(/```mermaid\n%%\{init: .*\}%%\nxychart-beta\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(charts).toHaveLength(2);
    const firstLine = /line \[([\d, ]+)\]/.exec(charts[0] as string)?.[1]?.split(', ').map(Number);
    expect(firstLine).toEqual(doc.runs[0]!.samples.map((s) => s.fds));
    expect(charts[0]).toContain(`(EMFILE at ${doc.runs[0]!.measured.emfileAtReload})`);
  });

  it('names the failure and folds in what the program printed', () => {
    const text = read('leak.md');
    expect(text).toContain('**❌ FAIL:');
    expect(text).toContain('- FAIL: EMFILE at reload');
    expect(text).toMatch(/<details><summary>python3: what the program printed<\/summary>[\s\S]*OSError: \[Errno 24\] Too many open files/);
  });
});

describe('--junit', () => {
  it('one passing test case per run of a compare', () => {
    const text = read('compare.xml');
    expect(XMLValidator.validate(text)).toBe(true);
    const suites = xml.parse(text).testsuites;
    expect(suites['@tests']).toBe('2');
    expect(suites['@failures']).toBe('0');
    const cases = suites.testsuite.testcase as Record<string, unknown>[];
    expect(cases.map((c) => c['@name'])).toEqual(['broken (node, channel pipe): the broken pattern leaks until EMFILE and then stops reloading', 'correct (node, channel pipe): the correct pattern stays flat']);
    expect(cases.every((c) => c.failure === undefined)).toBe(true);
  });

  it('a leak is a failure naming the growth per reload and where EMFILE came', () => {
    const doc = json<RunDocument>('leak.json');
    const suites = xml.parse(read('leak.xml')).testsuites;
    expect(suites['@failures']).toBe('1');
    const failure = (suites.testsuite.testcase as { failure: { '@message': string } }[])[0]?.failure;
    expect(failure?.['@message']).toContain(`fds grew ${doc.measured.growthPerReload.toFixed(3)}/reload`);
    expect(failure?.['@message']).toContain(`EMFILE at reload ${doc.measured.emfileAtReload}`);
  });
});

describe('--csv', () => {
  it('one row per kept sample, the fds and per-kind columns as in the document', () => {
    const doc = json<CompareDocument>('compare.json');
    const rows = read('compare.csv').trimEnd().split('\r\n').map((r) => r.split(','));
    const header = rows[0] as string[];
    expect(header.slice(0, 4)).toEqual(['run', 'reload', 'elapsed_ms', 'fds']);
    const body = rows.slice(1);
    expect(body).toHaveLength(doc.runs[0]!.samples.length + doc.runs[1]!.samples.length);
    expect(body.every((r) => r.length === header.length)).toBe(true);
    const pipe = header.indexOf('fds_pipe');
    const brokenRows = body.filter((r) => r[0] === 'broken');
    expect(brokenRows.map((r) => Number(r[3]))).toEqual(doc.runs[0]!.samples.map((s) => s.fds));
    expect(brokenRows.map((r) => Number(r[pipe]))).toEqual(doc.runs[0]!.samples.map((s) => s.fdsByKind.pipe ?? 0));
  });
});

describe('repro report: every format from a saved document', () => {
  it('re-renders the same views and exits as the run did', async () => {
    const again = await repro(['report', at('compare.json'), '--svg', at('again.svg'), '--junit', at('again.xml'), '--out', at('again.json')]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(read('again.svg')).toBe(read('compare.svg'));
    expect(read('again.xml')).toBe(read('compare.xml'));
    expect(json('again.json')).toEqual(json('compare.json'));
    expect(again.stdout).toContain('PASS: broken leaks to EMFILE, correct stays flat');
    expect((await repro(['report', at('leak.json'), '--no-chart'])).exitCode).toBe(1);
  });

  it('reads the document from stdin when the file is -', async () => {
    const result = await execa(process.execPath, [BIN, 'report', '-', '--csv', '-'], { input: read('compare.json'), reject: false, env: { GITHUB_STEP_SUMMARY: '' } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(read('compare.csv').replace(/\r\n$/, '')); // execa drops the final line break
  });

  it('- is stdout for any format; the summary then goes to stderr', async () => {
    const result = await repro(['report', at('compare.json'), '--junit', '-']);
    expect(result.stdout).toBe(read('compare.xml').trimEnd()); // execa drops the final newline
    expect(result.stderr).toContain('PASS: broken leaks to EMFILE');
  });

  it('appends the Markdown summary to $GITHUB_STEP_SUMMARY, keeping what is there; --no-step-summary does not', async () => {
    const summary = at('step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    await repro(['report', at('compare.json'), '--no-chart'], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(read('step-summary.md')).toBe(`# earlier step\n${read('compare.md')}`);
    await repro(['report', at('compare.json'), '--no-chart', '--no-step-summary'], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(read('step-summary.md')).toBe(`# earlier step\n${read('compare.md')}`);
  });

  it.each([
    [['report', '/nonexistent/run.json'], /^repro: repro report \/nonexistent\/run.json: cannot read \(no such file\)/],
    [['report', 'NOTJSON'], /not JSON/],
    [['report', 'V99'], /schemaVersion 99 is not one this repro reads/],
    [['report', 'NOVERDICT'], /not a valid run document: .*verdict/],
    [['report', 'compare.json', '--json', '--csv', '-'], /--json and --csv - both write to stdout/],
    [['report', 'compare.json', '--html', '/nonexistent/dir/r.html'], /--html \/nonexistent\/dir\/r.html: cannot write \(its directory does not exist\)/],
  ])('bad input %j: one line, exit 2 or 3', async (args, message) => {
    writeFileSync(at('NOTJSON'), 'hello');
    writeFileSync(at('V99'), JSON.stringify({ ...json<object>('clean.json'), schemaVersion: 99 }));
    const noVerdict: Partial<RunDocument> = json<RunDocument>('clean.json');
    delete noVerdict.verdict;
    writeFileSync(at('NOVERDICT'), JSON.stringify(noVerdict));
    const result = await repro(args.map((a) => (existsSync(at(a)) ? at(a) : a)));
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect([2, 3]).toContain(result.exitCode);
  });
});

describe('--baseline: the regression gate', () => {
  it('fails (exit 1) when the fds surviving per reload got worse than in the saved run, and says by how much', async () => {
    const result = await repro(['report', at('leak.json'), '--baseline', at('clean.json'), '--json', '--junit', at('gate.xml')]);
    expect(result.exitCode).toBe(1);
    const doc = JSON.parse(result.stdout) as RunDocument;
    expect(doc.baseline?.pass).toBe(false);
    // A watch is gated by its survivors, so the baseline compares those (not the least-squares slope).
    const grew = json<RunDocument>('leak.json').survivors?.survivorsPerReload as number;
    expect(grew).toBeGreaterThan(0);
    expect(doc.baseline?.runs).toEqual([{ run: 'watch', measure: 'survivors', before: 0, after: grew, change: grew, regressed: true }]);
    expect(doc.verdict.checks[0]).toMatchObject({ id: 'baseline:watch', ok: false });
    expect(doc.verdict.checks[0]?.text).toContain(`watch fds surviving per reload rose from 0 to ${grew} (+${grew}, tolerance 0.05) against `);
    expect(validate(doc)).toBe(true);
    expect(read('gate.xml')).toMatch(/<testcase name="watch: fds surviving per reload no worse than the baseline" classname="repro.baseline" time="0.000">\s*<failure/);
  });

  it('passes a run no worse than its baseline, on a fresh run', async () => {
    const result = await repro(['watch', '--reloads', '5', '--settle', '60', '--json', '--baseline', at('clean.json'), '--', 'python3', service('reopens-log-cleanly.py'), at('service2.log')]);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as RunDocument;
    expect(doc.baseline?.runs).toEqual([{ run: 'watch', measure: 'survivors', before: 0, after: 0, change: 0, regressed: false }]);
  });

  it('refuses, before running anything, a baseline with no run of the same kind', async () => {
    const result = await repro(['correct', '--baseline', at('leak.json')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--baseline .*leak.json holds a watch run, nothing to compare a correct run with/);
  });
});
