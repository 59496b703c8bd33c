/**
 * The deadlock rule over /proc text recorded from real processes
 * (test/fixtures/proc-deadlock/): the localtime child of signal-safety,
 * deadlocked inside its SIGUSR1 handler under a storm, read twice 400 ms
 * apart; and a Python main thread idle in threading.Event().wait() with a
 * SIGUSR1 handler installed, read the same way. Pure logic.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handlerDeadlock, type TaskReading, taskReading } from '../../../src/kinds/trials/deadlock.js';

const SIGUSR1 = 10;

function recorded(name: string): TaskReading {
  const read = (file: string) => readFileSync(new URL(`../../fixtures/proc-deadlock/${name}.${file}`, import.meta.url), 'utf8');
  return taskReading(1, { stat: read('stat'), status: read('status'), syscall: read('syscall') }) as TaskReading;
}

describe('handlerDeadlock', () => {
  const stuck = [recorded('handler-deadlock-1')];
  const stuckLater = [recorded('handler-deadlock-2')];
  const idle = [recorded('idle-event-wait-1')];
  const idleLater = [recorded('idle-event-wait-2')];

  it('finds the thread in futex with the storm signal blocked and pending and its CPU time frozen', () => {
    expect(stuck[0]).toMatchObject({ syscall: 202 });
    expect(handlerDeadlock(stuck, stuckLater, 400, SIGUSR1)).toEqual({ tid: 1, frozenMs: 400 });
  });

  it('does not call an idle Event.wait() deadlocked: futex and no CPU, but nothing blocked', () => {
    expect(idle[0]).toMatchObject({ syscall: 202, sigBlk: 0n });
    expect(handlerDeadlock(idle, idleLater, 400, SIGUSR1)).toBeUndefined();
  });

  it('wants the CPU time frozen for at least 300 ms, and frozen', () => {
    expect(handlerDeadlock(stuck, stuckLater, 299, SIGUSR1)).toBeUndefined();
    const moved = stuckLater.map((t) => ({ ...t, cpuTicks: t.cpuTicks + 1 }));
    expect(handlerDeadlock(stuck, moved, 400, SIGUSR1)).toBeUndefined();
  });

  it('is about the signal asked for, and a thread gone or unreadable reads as nothing', () => {
    expect(handlerDeadlock(stuck, stuckLater, 400, 12)).toBeUndefined();
    expect(handlerDeadlock(stuck, [], 400, SIGUSR1)).toBeUndefined();
    expect(taskReading(1, { stat: 'x', status: '' })).toBeUndefined();
  });

  it('with the masks from before the signal (watch, one signal): newly blocked counts without pending; blocked before does not', () => {
    const onePending = stuck.map((t) => ({ ...t, shdPnd: 0n }));
    const oneLater = stuckLater.map((t) => ({ ...t, shdPnd: 0n }));
    expect(handlerDeadlock(onePending, oneLater, 400, SIGUSR1)).toBeUndefined();
    expect(handlerDeadlock(onePending, oneLater, 400, SIGUSR1, new Map([[1, 0n]]))).toEqual({ tid: 1, frozenMs: 400 });
    // A program that blocks the signal itself and waits in futex: blocked and pending, but not inside a handler.
    expect(handlerDeadlock(stuck, stuckLater, 400, SIGUSR1, new Map([[1, 1n << 9n]]))).toBeUndefined();
    // A thread with no mask from before (born since) is not judged.
    expect(handlerDeadlock(stuck, stuckLater, 400, SIGUSR1, new Map())).toBeUndefined();
  });
});
