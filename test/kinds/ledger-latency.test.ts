/**
 * signal-during-request's statistic on made-up request timelines (pure
 * logic): a signal that stalls every request in flight reads over the bound,
 * one slow request at a quiet instant moves neither the bound nor a reading.
 */
import { describe, expect, it } from 'vitest';
import { inFlightAt, lowerMedian, readStalls, stallShown, type TimedRequest } from '../../src/kinds/ledger/latency.js';

/** Four clients back to back, each request `ms` long, from 0 to `untilMs`; `slow` adds to the requests in flight at those instants. */
function timeline(ms: number, untilMs: number, slow: { at: number; addMs: number; clients?: number }[] = []): TimedRequest[] {
  const requests: TimedRequest[] = [];
  for (let client = 0; client < 4; client += 1) {
    let t = client * (ms / 4);
    while (t < untilMs) {
      const extra = slow.filter((s) => t <= s.at && t + ms > s.at && client < (s.clients ?? 4)).reduce((a, s) => a + s.addMs, 0);
      requests.push({ startedAt: t, latencyMs: ms + extra });
      t += ms + extra;
    }
  }
  return requests;
}

const quiet = [300, 400, 500, 600, 700, 800, 900, 1350, 1850];

describe('the in-flight reading of a signal against quiet instants of the same run', () => {
  it('a lower median: three of four must be slow to move it', () => {
    expect(lowerMedian([5, 300, 6, 7])).toBe(6);
    expect(lowerMedian([5, 300, 300, 300])).toBe(300);
    expect(lowerMedian([])).toBeUndefined();
    expect(inFlightAt([{ startedAt: 0, latencyMs: 10 }, { startedAt: 10, latencyMs: 10 }], 10)).toEqual([10]);
  });

  it("a signal whose work stalls every request in flight reads over the bound; the quiet instants' median sets it", () => {
    const requests = timeline(20, 2500, [{ at: 1000, addMs: 200 }, { at: 1500, addMs: 200 }]);
    const r = readStalls(requests, [1000, 1500, 2000], quiet, 100);
    expect(r.quietMs).toBe(20);
    expect(r.boundMs).toBe(120);
    expect(r.stalled).toEqual([true, true, false]);
    expect(r.quietOverBound).toBe(0);
    expect(stallShown(2, 3)).toBe('stall');
  });

  it("one slow request (the machine's tail) at a signal or a quiet instant stalls nothing", () => {
    const requests = timeline(20, 2500, [{ at: 1000, addMs: 300, clients: 1 }, { at: 500, addMs: 300, clients: 1 }]);
    const r = readStalls(requests, [1000, 1500, 2000], quiet, 100);
    expect(r.boundMs).toBe(120);
    expect(r.stalled).toEqual([false, false, false]);
    expect(stallShown(0, 6)).toBe('none');
    expect(stallShown(2, 6)).toBe('unclear');
  });

  it('a loaded machine moves the typical request and the bound with it', () => {
    const r = readStalls(timeline(60, 2500, [{ at: 1000, addMs: 200 }]), [1000, 1500], quiet, 100);
    expect(r.boundMs).toBe(160);
    expect(r.stalled).toEqual([true, false]);
  });

  it('no quiet instant with a request in flight: no bound, nothing stalled', () => {
    const r = readStalls([], [1000], quiet, 100);
    expect(r.quietMs).toBeUndefined();
    expect(r.stalled).toEqual([false]);
  });
});
