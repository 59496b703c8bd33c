/** The replay semantics of RecordedView (src/proc/recorded.ts) on a small hand-written trace (pure logic). */
import { describe, expect, it } from 'vitest';
import { ProbeError } from '../../src/fdprobe/errors.js';
import { RecordedView } from '../../src/proc/recorded.js';

const trace = [
  { trace: 'repro-proc', version: 1, root: '/proc' },
  { t: 1, op: 'now', a: [], r: 1 },
  { t: 1, op: 'stat', a: [7], r: { comm: 'a', state: 'S', ppid: 1, pgid: 7, flags: 0, cpuTicks: 3, startTicks: 9 } },
  { t: 2, op: 'mark', a: ['signal'], r: { reload: 1 } },
  { t: 3, op: 'comm', a: [7], r: 'a\n' },
  { t: 4, op: 'now', a: [], r: 4 },
  { t: 5, op: 'stat', a: [7], r: { comm: 'a', state: 'R', ppid: 1, pgid: 7, flags: 0, cpuTicks: 4, startTicks: 9 } },
  { t: 6, op: 'listFds', a: ['/proc/7/fd'], e: { failure: 'gone', pid: 7, message: 'process 7 is gone' } },
  { t: 7, op: 'fdStat', a: ['/proc/7/fd', 3], r: ['2049', '12', '0'] },
]
  .map((l) => JSON.stringify(l))
  .join('\n');

describe('RecordedView', () => {
  it('answers each call with the next matching reading after the cursor, skipping the others, and time advances with the reads', () => {
    const view = new RecordedView(trace);
    expect(view.now()).toBe(1);
    // The comm reading is skipped over: the second stat answers after the first.
    expect(view.stat(7)?.state).toBe('S');
    expect(view.stat(7)?.state).toBe('R');
    expect(view.now()).toBe(10 + 7);
    expect(view.exhausted).toBe(true);
  });

  it('seeks to a mark, replays a thrown ProbeError, decodes bigints, and answers as a vanished process past the end', () => {
    const view = new RecordedView(trace);
    const [mark] = view.marks('signal');
    view.seek(mark as NonNullable<typeof mark>);
    expect(view.stat(7)?.state).toBe('R');
    expect(() => view.listFds('/proc/7/fd')).toThrow(ProbeError);
    expect(view.fdStat('/proc/7/fd', 3)).toEqual({ dev: 2049n, ino: 12n, birthNs: 0n });
    expect(view.comm(7)).toBeUndefined();
    expect(view.threads(7)).toEqual([]);
    expect(view.exhausted).toBe(true);
  });
});
