// Documents nobody should trust (issue 20, items 1, 2, 3 and 7): every string field a real document
// may hold set to terminal escapes (an OSC title, an OSC 8 hyperlink, SGR blink, a one-byte CSI, a
// carriage return, a right-to-left override) reaches no view raw: `repro report` of it writes the
// terminal summary, Markdown (and the job summary), HTML, SVG, JUnit and CSV with each shown as
// `\x1b…`; the JSON keeps the data as it was. /dev/zero, a huge file and 200 000 levels of nesting
// are one line and exit 2; CSV cells a spreadsheet would run are quoted as OWASP says.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

const OSC_TITLE = '\x1b]0;owned-title\x07';
const OSC_LINK = '\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\';
const SGR = '\x1b[5;41m';
const HOSTILE = `${OSC_TITLE}${OSC_LINK}${SGR}blink\x9b2J\r\u202eright-to-left\x07\n`;
/** Any control character but a line feed (and the tab Markdown's own fences never need). */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/;

const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schema/run-document.schema.json', import.meta.url)), 'utf8')) as object;
const ajv = new Ajv2020({ strict: true, validateFormats: false });
ajv.addSchema(schema, 'run-document');

/**
 * Every string leaf of `doc` set to `value` where the schema still takes it (a pattern, an enum or a
 * const refuses some); metric ids stay, as the samples' keys name them. Returns the paths set.
 */
function poison(doc: Record<string, unknown>, value: string): string[] {
  const validate = ajv.getSchema(`run-document#/$defs/${String(doc.kind)}`);
  if (!validate) throw new Error(`no schema for ${String(doc.kind)}`);
  const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number; path: string }[] = [];
  const stack: { node: unknown; path: string }[] = [{ node: doc, path: '' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as (typeof stack)[number];
    if (node === null || typeof node !== 'object') continue;
    for (const [key, child] of Object.entries(node)) {
      const childPath = `${path}/${key}`;
      if (typeof child === 'string' && !/\/metrics\/\d+\/id$/.test(childPath)) leaves.push({ parent: node as Record<string, unknown>, key: Array.isArray(node) ? Number(key) : key, path: childPath });
      else stack.push({ node: child, path: childPath });
    }
  }
  const set: string[] = [];
  for (const { parent, key, path } of leaves) {
    const p = parent as Record<string | number, unknown>;
    const before = p[key];
    p[key] = value;
    if (validate(doc)) set.push(path.replace(/\/\d+(?=\/|$)/g, '/N'));
    else p[key] = before;
  }
  return set;
}

/** The document `repro report` saves from `source` (a version 1 one comes out converted), with every string it can take made hostile. */
async function hostileFrom(source: string, name: string): Promise<{ file: string; set: string[] }> {
  const current = at(`${name}.current.json`);
  const saved = await repro(['report', source, '--out', current]);
  expect([0, 1, 4], saved.stderr).toContain(saved.exitCode);
  const doc = JSON.parse(readFileSync(current, 'utf8')) as Record<string, unknown>;
  // A drain's plan names its URL only when one was given: give one, so it is poisoned too.
  // So does a child's end only when a signal ended it: name one, so that field is poisoned as well.
  for (const run of (doc.runs ?? [doc]) as { drain?: { plan: { url?: string } }; end?: { child?: { signal: string | null } } }[]) {
    if (run.drain) run.drain.plan.url ??= 'http://127.0.0.1:8080/';
    if (run.end?.child) run.end.child.signal ??= 'SIGTERM';
  }
  const set = poison(doc, HOSTILE);
  const file = at(`${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return { file, set };
}

const sources: Record<string, string> = {};
beforeAll(async () => {
  // A live watch run of a real program (a tree, survivors, a leak), and real documents of a scenario compare and a drain compare.
  const watch = await repro(['watch', '--reloads', '4', '--settle', '60', '--out', at('watch.run.json'), '--', 'python3', fixture('services/leaks-pipe-per-hup.py')]);
  expect(watch.exitCode, watch.stderr).toBe(1);
  sources.watch = at('watch.run.json');
  sources.compare = fixture('documents/v1-compare.json');
  sources.drain = fixture('documents/v2-drain-compare-before-measurement.json');
}, 60_000);

describe('every string field of a document set to terminal escapes (item 1)', () => {
  it.each(['watch', 'compare', 'drain'])('%s: no view shows one raw; the JSON keeps them as data', async (name) => {
    const { file, set } = await hostileFrom(sources[name] as string, name);
    // The fields the issue found raw, among every other string the schema lets be anything.
    const named: Record<string, string[]> = {
      watch: ['/runtime', '/platform/node', '/stdout/text', '/command/N', '/samples/N/processes/N/command', '/end/child/signal', '/tree/grew/command'],
      compare: ['/runs/N/role', '/runs/N/runtime', '/runs/N/platform/node', '/runs/N/metrics/N/label', '/runs/N/measured/registerFailure', '/runs/N/end/child/signal', '/runs/N/stderr/text'],
      drain: ['/runs/N/drain/plan/url', '/runs/N/drain/ended/detail', '/runs/N/drain/ledger/examples/N/detail', '/runs/N/role'],
    };
    expect((named[name] as string[]).filter((path) => !set.includes(path))).toEqual([]);
    const views = ['markdown', 'html', 'svg', 'junit', 'csv'] as const;
    const args = views.flatMap((v) => [`--${v}`, at(`${name}.${v}`)]);
    const steps = at(`${name}.step-summary.md`);
    writeFileSync(steps, '');
    for (const env of [{}, { FORCE_COLOR: '1', NO_COLOR: '' }] as Record<string, string>[]) {
      const report = await repro(['report', file, ...args], { env: { ...env, GITHUB_STEP_SUMMARY: steps } });
      expect([0, 1, 4], report.stderr).toContain(report.exitCode);
      // repro's own colours are the only escapes left in the summary: SGR with the parameters chalk uses.
      const own = report.stdout.replace(/\x1b\[(?:[0-9]|[1-9][0-9])m/g, ''); // eslint-disable-line no-control-regex
      expect(own).not.toMatch(RAW_CONTROL);
      expect(report.stdout).not.toContain(SGR);
      expect(report.stdout).toContain('\\x1b]0;owned-title\\x07');
      expect(report.stderr).not.toMatch(RAW_CONTROL);
    }
    for (const view of views) {
      const text = readFileSync(at(`${name}.${view}`), 'utf8');
      // CSV rows end in CRLF (RFC 4180): that one CR is repro's.
      expect(view === 'csv' ? text.replace(/\r\n/g, '\n') : text, view).not.toMatch(RAW_CONTROL);
      expect(text, view).not.toMatch(/&#(?:x0*1b|0*27);/i);
    }
    expect(readFileSync(at(`${name}.markdown`), 'utf8')).toContain('\\x1b]8;;http://evil.example/');
    expect(readFileSync(steps, 'utf8')).not.toMatch(RAW_CONTROL);
    expect(readFileSync(steps, 'utf8').length).toBeGreaterThan(100);
    // --json is the data: the same strings, JSON-escaped.
    const json = await repro(['report', file, '--json']);
    expect(json.stdout).toContain('\\u001b]0;owned-title\\u0007');
  }, 60_000);
});

describe('a document refused for a name it holds (item 1)', () => {
  it.each([
    ['an unknown property', (doc: Record<string, unknown>) => ({ ...doc, [OSC_TITLE]: 1 }), /must not have the property '\\x1b\]0;owned-title\\x07'/],
  ])('%s: exit 2, the name shown escaped', async (_what, edit, shown) => {
    const doc = JSON.parse(readFileSync(sources.watch as string, 'utf8')) as Record<string, unknown>;
    writeFileSync(at('named.json'), JSON.stringify(edit(doc)));
    const report = await repro(['report', at('named.json')]);
    expect(report.exitCode, report.stderr).toBe(2);
    expect(report.stderr).toMatch(shown);
    expect(report.stderr).not.toMatch(RAW_CONTROL);
  });
});

describe('bounded reads (item 2) and nesting (item 3)', () => {
  it.each([
    ['report', '/dev/zero'],
    ['--baseline', '/dev/zero'],
    ['report', 'huge'],
  ])('%s %s: exit 2, one line stating the size limit, at bounded memory', async (flag, what) => {
    const path = what === 'huge' ? at('huge.json') : what;
    if (what === 'huge') {
      writeFileSync(path, '');
      truncateSync(path, 8 * 1024 ** 3);
    }
    const args = flag === 'report' ? ['report', path] : ['report', sources.watch as string, '--baseline', path];
    // GNU time measures the peak RSS of the real process.
    const run = spawnSync('/usr/bin/time', ['-f', 'rss_kb=%M', process.execPath, BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^repro: .*: larger than 128 MiB, the most a run document may be; name a file written by repro --out or --json$/);
    expect(lines.slice(1).filter((l) => !/^(rss_kb=|Command exited)/.test(l))).toEqual([]);
    const rssKb = Number(/rss_kb=(\d+)/.exec(run.stderr)?.[1]);
    expect(rssKb).toBeLessThan(600 * 1024);
  }, 40_000);

  it('a 100 MB stderr string in a document (under the read limit): every view is the size of a real one', async () => {
    const doc = JSON.parse(readFileSync(sources.watch as string, 'utf8')) as { stderr: { text: string; bytes: number; truncated: boolean } };
    const text = `start\n${'x'.repeat(100 * 1024 * 1024)}\nend of it\n`;
    writeFileSync(at('big-stderr.json'), JSON.stringify({ ...doc, stderr: { text, bytes: text.length, truncated: false } }));
    const run = spawnSync('/usr/bin/time', ['-f', 'rss_kb=%M', process.execPath, BIN, 'report', at('big-stderr.json'), '--junit', at('big.xml'), '--markdown', at('big.md'), '--html', at('big.html')], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' },
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(1);
    for (const view of ['big.xml', 'big.md', 'big.html']) {
      const written = readFileSync(at(view), 'utf8');
      expect(written.length, view).toBeLessThan(400 * 1024);
      // Both ends of it are there, and a line saying what was not shown.
      expect(written, view).toMatch(/characters not shown/);
    }
    expect(run.stdout.length).toBeLessThan(400 * 1024);
    expect(Number(/rss_kb=(\d+)/.exec(run.stderr)?.[1])).toBeLessThan(1200 * 1024);
  }, 60_000);

  it('an event nested 200 000 levels: exit 2 naming the limit, not a stack overflow (exit 70)', async () => {
    const doc = JSON.parse(readFileSync(sources.watch as string, 'utf8')) as { events: unknown[] };
    const depth = 200_000;
    const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const text = JSON.stringify({ ...doc, events: ['@DEEP@', ...doc.events] }).replace('"@DEEP@"', `{"event":"ready","x":${deep}}`);
    writeFileSync(at('deep.json'), text);
    for (const args of [['--json'], ['--out', at('deep.out.json')], []]) {
      const report = await repro(['report', at('deep.json'), ...args]);
      expect(report.exitCode, report.stderr).toBe(2);
      expect(report.stderr).toMatch(/^repro: repro report \S+deep\.json: nested deeper than 64 levels \(under \/events\/0\/x\/a\), more than any run document; name a file written by repro --out or --json$/);
    }
  });
});

describe('CSV cells a spreadsheet would run (item 7)', () => {
  it.each(['=HYPERLINK("http://evil.example/","x")', '+cmd|/c calc', '-2+3', '@SUM(A1:A9)'])('a role %s is text, quoted with a leading apostrophe', async (role) => {
    const doc = JSON.parse(readFileSync(sources.watch as string, 'utf8')) as { role: string };
    writeFileSync(at('formula.json'), JSON.stringify({ ...doc, role }));
    const report = await repro(['report', at('formula.json'), '--csv', at('formula.csv')]);
    expect(report.exitCode, report.stderr).toBe(1);
    const rows = readFileSync(at('formula.csv'), 'utf8').split('\r\n').slice(1, -1);
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) expect(row.startsWith(`"'${role.replace(/"/g, '""')}",`), row).toBe(true);
    // Numbers stay numbers, a negative one included.
    expect(rows[0]).toMatch(/^"[^"]*(?:""[^"]*)*",0,/);
  });
});
