// --log FILE: the log is followed from its size at start, through rotation, truncation and late
// creation, and EMFILE lines written after the first signal are found (real files, real renames).
import { appendFileSync, closeSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
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
});
