/**
 * signal-safety's trial procedure, on a scripted child (the decision logic
 * only: the real children are signal-safety.test.ts). A trial storms until
 * 2,000 signals reached the handler, and takes as a storm's answer only a
 * report the child made after that storm.
 */
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { TrialContext } from '../../src/kinds/trials/procedure.js';
import type { ProcessView } from '../../src/proc/view.js';
import { safetyTrial } from '../../src/scenarios/signal-safety/trial.js';

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** A child that runs on: each storm reaches its handler `perStorm` times; SIGUSR2 gets a report (`report` shapes it). */
function scriptedChild(perStorm: number, report: (delivered: number) => Record<string, unknown> = (d) => ({ checks: 10, handled: d, delivered: d, at: nowUs() })) {
  const queue: Record<string, unknown>[] = [];
  let delivered = 0;
  let storms = 0;
  const ctx: TrialContext = {
    pid: 1,
    trial: 1,
    view: {} as ProcessView,
    async burst(signo, count) {
      if (signo === constants.signals.SIGUSR1) {
        storms += 1;
        delivered += perStorm;
      } else queue.push({ event: 'alive', ...report(delivered) });
      return count;
    },
    async event(name) {
      const i = queue.findIndex((e) => e.event === name);
      return i < 0 ? undefined : queue.splice(i, 1)[0];
    },
    exit: () => undefined,
    exited: async () => undefined,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return { ctx, queue, storms: () => storms };
}

describe('signal-safety trial (scripted child)', () => {
  it('storms again until 2,000 signals reached the handler, then says survived', async () => {
    const child = scriptedChild(700);
    const outcome = await safetyTrial.run(child.ctx, 'correct', 'c');
    expect(outcome.outcome).toBe('survived');
    expect(child.storms()).toBe(3);
    expect(outcome.counts).toMatchObject({ sent: 30_000, delivered: 2100 });
  });

  it('a report made before the storm ended (a second SIGUSR2 answered late) is not that storm’s answer', async () => {
    const child = scriptedChild(1000);
    child.queue.push({ event: 'alive', checks: 5, handled: 99_999, delivered: 99_999, at: nowUs() - 1_000_000 });
    const outcome = await safetyTrial.run(child.ctx, 'correct', 'c');
    expect(outcome.counts.delivered).toBe(2000);
    expect(child.storms()).toBe(2);
  });

  it('a report without "delivered" is unknown at once, not NaN storms', async () => {
    const child = scriptedChild(1000, () => ({ checks: 10, handled: 3, at: nowUs() }));
    const outcome = await safetyTrial.run(child.ctx, 'correct', 'c');
    expect(outcome.outcome).toBe('unknown');
    expect(outcome.detail).toMatch(/does not say how many signals reached its handler \("delivered"\)/);
    expect(child.storms()).toBe(1);
  });
});
