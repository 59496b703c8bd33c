// --log FILE: the log is followed from its size at start, through rotation, truncation and late
// creation, and EMFILE lines written after the first signal are found (real files, real renames);
// copytruncate followed by regrowth, two rotations between polls and a sparse multi-GB extension
// (issue 18 item 7) too.
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, copyFileSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emfileLine } from '../../src/harness/child-output.js';
import { LogFollower, MAX_LINE_CHARS } from '../../src/harness/log-follower.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `error-${++n}.log`);
const NGINX = '2026/01/01 00:00:01 [alert] 4242#4242: socketpair() failed while spawning "worker process" (24: Too many open files)';

describe('what counts as EMFILE in a log line', () => {
  it.each([
    [NGINX, true],
    ['socketpair() failed (24: Trop de fichiers ouverts)', true],
    ['OSError: [Errno 24] Too many open files', true],
    ['accept: EMFILE', true],
    ['worker 24 started (pid 1234)', false],
    ['reloaded in 24 ms', false],
  ])('%s → %s', (line, says) => {
    expect(emfileLine(line)).toBe(says);
  });
});

describe('LogFollower', () => {
  it('starts at the size the file had: what was there before is not read; after the mark, a hit', () => {
    const path = fresh();
    writeFileSync(path, `old run: ${NGINX}\n`);
    const log = new LogFollower(path);
    expect(log.poll()).toBeNull();
    appendFileSync(path, 'start-up: (24: Too many open files) before the first signal\n');
    log.mark();
    expect(log.before?.line).toContain('before the first signal');
    expect(log.poll()).toBeNull();
    appendFileSync(path, 'reloading\n');
    expect(log.poll()).toBeNull();
    appendFileSync(path, `${NGINX}\n`);
    expect(log.poll()).toEqual({ line: NGINX, afterMark: true });
    log.close();
  });

  it('a file that does not exist yet is read from its start once it appears', () => {
    const path = fresh();
    const log = new LogFollower(path);
    log.mark();
    expect(log.poll()).toBeNull();
    writeFileSync(path, `${NGINX}\n`);
    expect(log.poll()?.line).toBe(NGINX);
    log.close();
  });

  it('rotated (renamed, a new file created): the rest of the old file, then the new one from its start', () => {
    const path = fresh();
    writeFileSync(path, 'line 1\n');
    const log = new LogFollower(path);
    log.mark();
    // The program still holds the old file: its last words go there after the rename.
    const writer = openSync(path, 'a');
    renameSync(path, `${path}.1`);
    writeSync(writer, `${NGINX}\n`);
    closeSync(writer);
    writeFileSync(path, 'fresh file\n');
    expect(log.poll()?.line).toBe(NGINX);
    log.close();
  });

  it('rotated, and EMFILE written only to the new file', () => {
    const path = fresh();
    writeFileSync(path, 'line 1\n');
    const log = new LogFollower(path);
    log.mark();
    renameSync(path, `${path}.1`);
    expect(log.poll()).toBeNull();
    writeFileSync(path, `${NGINX}\n`);
    expect(log.poll()?.line).toBe(NGINX);
    log.close();
  });

  it('removed and re-created: the new file is read from its start', () => {
    const path = fresh();
    writeFileSync(path, 'x\n');
    const log = new LogFollower(path);
    log.mark();
    unlinkSync(path);
    expect(log.poll()).toBeNull();
    writeFileSync(path, `${NGINX}\n`);
    expect(log.poll()?.line).toBe(NGINX);
    log.close();
  });

  it('truncated in place (copytruncate): what is written after is read from the start', () => {
    const path = fresh();
    writeFileSync(path, `${'a long line before the truncation\n'.repeat(20)}`);
    const log = new LogFollower(path);
    log.mark();
    truncateSync(path, 0);
    appendFileSync(path, `${NGINX}\n`);
    expect(log.poll()?.line).toBe(NGINX);
    log.close();
  });

  it('a line written in two pieces is one line; an unfinished last line counts at close', () => {
    const path = fresh();
    writeFileSync(path, '');
    const log = new LogFollower(path);
    log.mark();
    appendFileSync(path, '2026/01/01 [alert] socketpair() failed (24: Too many');
    expect(log.poll()).toBeNull();
    appendFileSync(path, ' open files)\nnext');
    expect(log.poll()?.line).toBe('2026/01/01 [alert] socketpair() failed (24: Too many open files)');
    log.close();
    const other = fresh();
    writeFileSync(other, '');
    const last = new LogFollower(other);
    last.mark();
    appendFileSync(other, 'dying: Too many open files');
    expect(last.close()?.line).toBe('dying: Too many open files');
  });

  it('a line longer than the bound costs at most the bound, and is still scanned', () => {
    const path = fresh();
    writeFileSync(path, '');
    const log = new LogFollower(path);
    log.mark();
    appendFileSync(path, `${'x'.repeat(3 * MAX_LINE_CHARS)}EMFILE${'y'.repeat(MAX_LINE_CHARS)}`);
    expect(log.poll()?.line).toMatch(/^x*EMFILE/);
    log.close();
  });

  it('copytruncate followed by regrowth past the old offset before the next poll: read again from the start', () => {
    const path = fresh();
    writeFileSync(path, `${'2026/01/01 [notice] worker started\n'.repeat(20)}`);
    const log = new LogFollower(path);
    log.mark();
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    // More than the old offset is back before the poll: the size alone says "grew".
    appendFileSync(path, `${NGINX}\n${'2026/01/01 [notice] after the truncation\n'.repeat(40)}`);
    expect(log.poll()?.line).toBe(NGINX);
    log.close();
  });

  it('regrown with the same first lines: the bytes before the old offset differ, so it is still seen', () => {
    const path = fresh();
    const same = '2026/01/01 00:00:01 [notice] 1#1: start worker processes\n';
    writeFileSync(path, same.repeat(10));
    const log = new LogFollower(path);
    log.mark();
    truncateSync(path, 0);
    appendFileSync(path, `${same.repeat(6)}${NGINX}\n${same.repeat(10)}`);
    expect(log.poll()?.line).toBe(NGINX);
    log.close();
  });

  /**
   * A followed log that logrotate rotates twice between two polls (.1 → .2, path → .1, a new path), the EMFILE
   * line only in the middle generation; `middle` sees that generation's file before the new path is written.
   */
  function rotatedTwice(middle?: (file: string) => void) {
    const path = fresh();
    writeFileSync(path, 'generation 1\n');
    const log = new LogFollower(path);
    log.mark();
    expect(log.poll()).toBeNull();
    renameSync(path, `${path}.1`);
    writeFileSync(path, `generation 2\n${NGINX}\n`);
    renameSync(`${path}.1`, `${path}.2`);
    renameSync(path, `${path}.1`);
    middle?.(`${path}.1`);
    writeFileSync(path, 'generation 3\n');
    return { path, log };
  }

  it('rotated twice between two polls: the generation in between is found beside the path and read', () => {
    const { log } = rotatedTwice();
    expect(log.poll()?.line).toBe(NGINX);
    expect(log.missed).toEqual([]);
    log.close();
  });

  it('rotated twice and the middle generation compressed: what was missed is said', () => {
    const { path, log } = rotatedTwice((middle) => execFileSync('gzip', [middle]));
    expect(log.poll()).toBeNull();
    expect(log.missed).toEqual([expect.stringMatching(new RegExp(`^${path}\\.1\\.gz \\(\\d+ bytes\\), rotated out between two samples, is compressed: not read$`))]);
    log.close();
  });

  it('a sparse 20 GB extension: one poll reads only both ends (milliseconds, not minutes), finds a line at its end and says what it skipped', () => {
    const path = fresh();
    writeFileSync(path, 'before\n');
    const log = new LogFollower(path);
    log.mark();
    truncateSync(path, 20 * 1024 ** 3);
    appendFileSync(path, `\n${NGINX}\n`);
    const started = performance.now();
    expect(log.poll()?.line).toBe(NGINX);
    const pollMs = performance.now() - started;
    expect(pollMs).toBeLessThan(1000);
    expect(log.missed).toEqual([expect.stringMatching(/^\d+ bytes of \S+ not read \(\d+ were written between two samples; its first and last 1 MiB were\)$/)]);
    // The next poll has nothing new to read.
    const again = performance.now();
    log.close();
    expect(performance.now() - again).toBeLessThan(200);
    unlinkSync(path);
  });
});
