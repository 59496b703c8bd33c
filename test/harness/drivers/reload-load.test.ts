/** The reload windows of watch --url (pure logic: recorded exchanges, no server). */
import { describe, expect, it } from 'vitest';
import { lossClassOf, WindowLedger } from '../../../src/harness/drivers/reload-load.js';
import type { Exchange } from '../../../src/harness/load/http-exchange.js';

const exchange = (outcome: Exchange['outcome'], endedAt: number, extra: Partial<Exchange> = {}): Exchange => ({ outcome, bytes: 0, serverClose: false, reused: false, cause: outcome, endedAt, ...extra });
const request = (startedAt: number, retry = false) => ({ kind: 'keepalive' as const, method: 'GET', path: '/', startedAt, retry });

describe('reload windows', () => {
  it('puts an answered request in the window it started in, and a lost one in the window of the reload it ended in', () => {
    const ledger = new WindowLedger(0, 0, 0);
    ledger.signalSent(1, 100);
    ledger.signalSent(2, 200);
    ledger.record(request(50), exchange('ok', 150, { status: 200 }), 'running');
    ledger.record(request(90), exchange('reset', 120), 'running');
    ledger.record(request(150), exchange('refused', 151), 'running');
    ledger.record(request(210), exchange('other-status', 215, { status: 405 }), 'running');
    ledger.record(request(220, true), exchange('ok', 230, { status: 200 }), 'running');
    const [warm, one, two] = ledger.windows;
    expect(warm).toMatchObject({ reload: 0, requests: 1, ok: 1, lost: 0 });
    expect(one).toMatchObject({ reload: 1, startMs: 100, requests: 2, ok: 0, lost: 2, lostBy: { reset: 1, refused: 1 } });
    expect(two).toMatchObject({ reload: 2, requests: 2, ok: 1, otherStatus: 1, lost: 0, retried: 1 });
    expect(ledger.causes().map((c) => [c.reload, c.lossClass])).toEqual([
      [1, 'reset'],
      [1, 'refused'],
    ]);
  });

  it('counts a refusal as lost at any time and a 4xx as an answer (the service is meant to stay up through a reload)', () => {
    expect(lossClassOf('refused')).toBe('refused');
    expect(lossClassOf('unavailable')).toBe('5xx');
    expect(lossClassOf('truncated')).toBe('cut');
    expect(lossClassOf('timeout')).toBe('timeout');
    expect(lossClassOf('other-status')).toBeUndefined();
    expect(lossClassOf('ok')).toBeUndefined();
  });
});
