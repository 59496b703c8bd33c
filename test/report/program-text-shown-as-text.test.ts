// Whatever a watched program writes, and whatever its name, arguments or a baseline path hold,
// is shown as text in every view and never acts: the Markdown (checked by rendering it with
// cmark-gfm, the parser GitHub's is built on, with raw HTML let through as GitHub lets through
// comments and <details>), the HTML, and the terminal (control characters shown as escapes).
// The program (test/fixtures/services/prints-markup-and-escapes.py) prints a line of three
// backticks, "<!--", a heading, "</details>", a script tag and escape sequences; it is run
// through a link named like markup, with an argument full of Markdown.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, repro } from '../support/cli.js';

const fixture = fileURLToPath(new URL('../fixtures/services/prints-markup-and-escapes.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-markup-'));
const at = (name: string) => join(dir, name);
const read = (name: string) => readFileSync(at(name), 'utf8');
// A file and a program name that are Markdown and HTML themselves.
const PROGRAM = 'py<!--*x*`';
const BASELINE = 'base`<!--*b*.json';
const ARG = '<!-- *em* [a](b) `x` # $m$ @someone';
/** What must never reach a view unescaped: ESC, a carriage return, a right-to-left override. */
// eslint-disable-next-line no-control-regex
const RAW = /[\x1b\r\u202e]/;

/** GitHub-flavoured Markdown → HTML, raw HTML passed through (GitHub keeps comments and <details>). */
function render(markdown: string): string {
  try {
    return execFileSync('cmark-gfm', ['--unsafe', '--extension', 'table', '--extension', 'autolink', '--extension', 'strikethrough'], { input: markdown, encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('cmark-gfm is not installed, and this test needs it to render the Markdown as GitHub would: apt-get install cmark-gfm (.ci/run installs it)');
    }
    throw error;
  }
}

let run: CliResult;
let report: CliResult;

beforeAll(async () => {
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  mkdirSync(at('bin'));
  symlinkSync(python, at(`bin/${PROGRAM}`));
  run = await repro(['watch', '--reloads', '3', '--settle', '60', '--out', at('run.json'), '--markdown', at('run.md'), '--html', at('run.html'), '--', at(`bin/${PROGRAM}`), fixture, ARG]);
  copyFileSync(at('run.json'), at(BASELINE));
  report = await repro(['report', at('run.json'), '--baseline', at(BASELINE), '--markdown', at('report.md')]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Markdown, rendered as GitHub renders it', () => {
  it('the runs behind it failed as they should (a pipe leaked per reload), so the output block is there', () => {
    expect(run.exitCode, run.stdout).toBe(1);
    expect(report.exitCode, report.stdout).toBe(1);
    expect(read('run.md')).toContain('what the program printed</summary>');
  });

  it.each(['run.md', 'report.md'])('%s: the program cannot open a comment, a tag, a heading or close a fold', (name) => {
    const html = render(read(name));
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('<script');
    expect(html).not.toMatch(/<h[12]/);
    expect(html.match(/<details>/g)).toHaveLength(2);
    expect(html.match(/<\/details>/g)).toHaveLength(2);
    // Its text is there, as text, inside code blocks.
    expect(html).toContain('&lt;!--');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // And what comes after it is still rendered: the terminal summary's last line, and the fold after it.
    expect(html).toMatch(/\n {2}ok: [^\n]+\n<\/code><\/pre>\n<\/details>/);
    expect(html).toMatch(/<summary>py&lt;!--\*x\*`: what the program printed<\/summary>/);
  });

  it('the program name, its arguments and the baseline path are inline text, not Markdown or HTML', () => {
    const html = render(read('report.md'));
    expect(html).not.toMatch(/<em>|<a |<strong>b|<code>x<\/code>/);
    // The watched program's name, in the table header, the chart title and the legend.
    expect(html).toContain('py&lt;!--*x*`');
    // The baseline path, in its code span and in the reasons.
    expect(html).toContain(`<code>${at(BASELINE).replace('<', '&lt;')}</code>`);
    expect(html).toMatch(new RegExp(`<li>ok: watch fds surviving per reload 2 against 2 in ${at(BASELINE).replace('<', '&lt;').replace(/[*$]/g, '\\$&')} `));
  });

  it('control characters show as escapes inside the code blocks', () => {
    const md = read('run.md');
    expect(md).toContain('\\x1b[31mred\\x1b[0m \\x1b[2J cleared\\rover \\u202eevil');
    expect(md).not.toMatch(RAW);
  });
});

describe('the terminal summary', () => {
  it('shows the escape sequences as text and never sends them', () => {
    expect(run.stdout).toContain('  \\x1b[31mred\\x1b[0m \\x1b[2J cleared\\rover \\u202eevil');
    expect(run.stdout).not.toMatch(RAW);
    expect(report.stdout).not.toMatch(RAW);
  });
});

describe('the HTML', () => {
  it('shows the program output, escapes included, as text in <pre>', () => {
    const text = read('run.html');
    expect(text).not.toMatch(RAW);
    const body = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'details' }).parse(text).html.body;
    const pres = (body.details as { pre: string }[]).map((d) => String(d.pre));
    expect(pres.some((p) => p.includes('<script>alert(1)</script>') && p.includes('\\x1b[31mred'))).toBe(true);
  });
});
