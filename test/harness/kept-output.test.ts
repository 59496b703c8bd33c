// What repro keeps of a program's output, and what it reads in it. Real Python services run
// under `repro watch`: a chatty one that writes 1 MiB and then dies of EMFILE saying so last (its
// last words must be kept, shown as the end they are, and count as EMFILE), the same with the
// phrase split over two pipe chunks, and one whose start-up banner merely mentions "Too many open files".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildOutput, Keeper } from '../../src/harness/child-output.js';
import type { RunDocument } from '../../src/model/run-document.js';
import { type CliResult, repro } from '../support/cli.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-kept-'));
const at = (name: string) => join(dir, name);
const doc = (name: string) => JSON.parse(readFileSync(at(name), 'utf8')) as RunDocument;
const GAP = /\n… (\d+) bytes not kept …\n/;

let chatty: CliResult;
let split: CliResult;
let banner: CliResult;

beforeAll(async () => {
  // Reloads to spare: the later signals are ignored while the program writes, and a loaded machine
  // must not run out of them before it dies (the run stops at its death).
  [chatty, split, banner] = await Promise.all([
    repro(['watch', '--reloads', '100', '--settle', '60', '--out', at('chatty.json'), '--html', at('chatty.html'), '--markdown', at('chatty.md'), '--', 'python3', service('chatty-dies-of-emfile.py')]),
    repro(['watch', '--reloads', '100', '--settle', '60', '--out', at('split.json'), '--', 'python3', service('chatty-dies-of-emfile.py'), '--split']),
    repro(['watch', '--reloads', '3', '--settle', '60', '--out', at('banner.json'), '--', 'python3', service('banner-mentions-emfile.py')]),
  ]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a chatty program that writes 1 MiB and then dies of EMFILE, saying so last', () => {
  it('is a leak seen (exit 1), not an inconclusive run: its last words were read', () => {
    expect(chatty.exitCode, chatty.stdout).toBe(1);
    const run = doc('chatty.json');
    expect(run.end.detail).toMatch(/^exited with code 1 during reload \d+$/);
    expect(run.emfileObserved?.evidence).toBe('the program said "Too many open files" and exited');
    expect(run.verdict.inconclusive).toBeUndefined();
  });

  it('keeps both ends of the stream, the gap marked and counted', () => {
    const { stderr } = doc('chatty.json');
    expect(stderr.bytes).toBeGreaterThan(1024 * 1024);
    expect(stderr.truncated).toBe(true);
    expect(stderr.text.startsWith('reload: re-reading the configuration')).toBe(true);
    expect(stderr.text.endsWith('\nfatal: cannot open /etc/chatty.conf: Too many open files\n')).toBe(true);
    const gap = GAP.exec(stderr.text);
    expect(Number(gap?.[1])).toBe(stderr.notKeptBytes);
    // Every byte is either kept or counted as not kept.
    expect(Buffer.byteLength(stderr.text.replace(GAP, '')) + (stderr.notKeptBytes ?? 0)).toBe(stderr.bytes);
    expect(stderr.text.replace(GAP, '').length).toBeLessThanOrEqual(64 * 1024);
  });

  it('is labelled as what it is in the terminal, the HTML and the Markdown (never "the last N kept" of a head)', () => {
    const { stderr } = doc('chatty.json');
    const label = `${stderr.bytes} bytes written; the start and the end kept, ${stderr.notKeptBytes} bytes between them not`;
    expect(chatty.stdout).toContain(`program stderr:\n  … (${label}; the last 8 lines shown)`);
    expect(chatty.stdout).toContain('\n  fatal: cannot open /etc/chatty.conf: Too many open files\n');
    const page = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'details' }).parse(readFileSync(at('chatty.html'), 'utf8')).html.body;
    const details = (page.details as { summary: string; pre: string }[]).find((d) => d.summary.startsWith('python3: stderr'));
    expect(details?.summary).toBe(`python3: stderr (${label})`);
    expect(details?.pre).toContain('Too many open files');
    expect(readFileSync(at('chatty.md'), 'utf8')).toContain(`stderr (${label}; the last 30 lines shown):`);
  });

  it('counts the phrase when it arrives split over two chunks', () => {
    expect(split.exitCode, split.stdout).toBe(1);
    const run = doc('split.json');
    expect(run.stderr.text.endsWith('\nfatal: cannot open /etc/chatty.conf: Too many open files\n')).toBe(true);
    expect(run.emfileObserved?.evidence).toBe('the program said "Too many open files" and exited');
  });
});

describe('a start-up banner that mentions "Too many open files"', () => {
  it('is not EMFILE: only what a program writes after the first signal counts', () => {
    const run = doc('banner.json');
    expect(run.stderr.text).toContain("'Too many open files'");
    expect(run.emfileObserved).toBeUndefined();
    expect(banner.exitCode, banner.stdout).toBe(0);
    expect(run.measured.reloadsDone).toBe(3);
  });
});

describe('Keeper and the EMFILE scan, fed directly', () => {
  it('keeps the first and the last characters, never splitting a surrogate pair', () => {
    const whole = new Keeper(4, 6);
    whole.add('ab😀cdefghij😀k');
    expect(whole.view()).toEqual({ text: 'ab😀\n… 5 bytes not kept …\nhij😀k', truncated: true, bytes: 19, notKeptBytes: 5 });
    // Both cuts would fall inside a 😀: the head stops before it, the tail starts after it.
    const split = new Keeper(3, 2);
    split.add('ab😀cdefghij😀k');
    expect(split.view()).toEqual({ text: 'ab\n… 16 bytes not kept …\nk', truncated: true, bytes: 19, notKeptBytes: 16 });
  });

  it('keeps everything, unmarked, while it fits', () => {
    const keeper = new Keeper(4, 6);
    for (const c of 'abcdefghij') keeper.add(c);
    expect(keeper.view()).toEqual({ text: 'abcdefghij', truncated: false, bytes: 10 });
  });

  it('finds the phrase across chunks, in bounded memory, and tells before the mark from after', () => {
    const output = new ChildOutput(1024);
    output.feedStderr('banner: about Too many open ');
    output.feedStderr('files\n');
    expect(output.emfileSeen()).toEqual({ text: 'Too many open files', afterMark: false });
    output.mark();
    for (let i = 0; i < 100; i++) output.feedStderr('x'.repeat(10_000));
    output.feedStderr('Too many o');
    expect(output.emfileSeen()?.afterMark).toBe(false);
    output.feedStderr('pen files');
    expect(output.emfileSeen()).toEqual({ text: 'Too many open files', afterMark: true });
    expect(output.stderr.view().text.length).toBeLessThan(1100);
  });
});
