import { describe, expect, it } from 'vitest';
import { EntryLedger, EntryTally } from '../../../src/kinds/ledger/entries.js';

describe('the one ledger (kinds/ledger/entries.ts)', () => {
  it('a tally counts every end, groups losses by cause up to its bound and keeps examples up to theirs', () => {
    const tally = new EntryTally<{ cause: string; count: number }, { n: number }>(2, 3);
    tally.settle();
    for (let n = 0; n < 5; n += 1) tally.lose(`c${n % 3}`, () => ({ cause: `c${n % 3}`, count: 1 }), () => ({ n }));
    expect(tally.total).toBe(6);
    expect(tally.lost).toBe(5);
    // c0 and c1 got the two groups; both losses of c2 are counted past the bound.
    expect(tally.causes()).toEqual([
      { cause: 'c0', count: 2 },
      { cause: 'c1', count: 2 },
    ]);
    expect(tally.otherLost).toBe(1);
    expect(tally.examples()).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it('follows entries from handed out to acknowledged and settles the rest by the cause the caller names', () => {
    const ledger = new EntryLedger();
    ledger.handOut('a', 0);
    ledger.handOut('b', 10);
    expect(ledger.acknowledge('a', 5)).toBe(true);
    expect(ledger.acknowledge('a', 6)).toBe(false);
    expect(ledger.acknowledge('nope', 6)).toBe(false);
    ledger.markSignal(20);
    ledger.handOut('c', 30);
    ledger.acknowledge('c', 40);
    ledger.handOut('d', 50);
    expect(ledger.out).toBe(2);
    const summary = ledger.settle((id, acknowledged) => (acknowledged ? 'kept' : id === 'd' ? 'unsettled' : { lost: 'never acknowledged: killed by SIGTERM' }));
    expect(summary).toMatchObject({ handedOut: 4, handedOutAfterSignal: 2, acknowledged: 2, outAtSignal: 1, lost: 1, unsettled: 1, otherLost: 0 });
    expect(summary.causes).toEqual([{ cause: 'never acknowledged: killed by SIGTERM', count: 1 }]);
    expect(summary.examples).toEqual([{ id: 'b', handedOutMs: -10, cause: 'never acknowledged: killed by SIGTERM' }]);
  });

  it('an acknowledged entry the caller finds missing is lost too (an increment acknowledged but not in the state file)', () => {
    const ledger = new EntryLedger();
    for (let n = 1; n <= 5; n += 1) {
      ledger.handOut(String(n), n);
      ledger.acknowledge(String(n), n + 0.5);
    }
    ledger.markSignal(6);
    const persisted = 3;
    const summary = ledger.settle((id) => (Number(id) <= persisted ? 'kept' : { lost: 'acknowledged, missing from the state file' }));
    expect(summary).toMatchObject({ acknowledged: 3, lost: 2, outAtSignal: 0 });
    expect(summary.causes).toEqual([{ cause: 'acknowledged, missing from the state file', count: 2 }]);
  });
});
