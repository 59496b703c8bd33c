import { describe, expect, it } from 'vitest';
import { emfileReload, firstLimitsProblem, limitsFor, limitsProblem, reloadsMayBeTooFew, slotsBelow, ulimitNeeded } from '../../../src/kinds/reloads/plan.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('slotsBelow: what a child takes below a limit, from its fds with no limit', () => {
  it('counts its own fds (the run from 0) and an inherited high fd only when it is below the limit', () => {
    const fds = [...range(20), 251];
    expect(slotsBelow(fds, 64)).toBe(20);
    expect(slotsBelow(fds, 10)).toBe(20);
    expect(slotsBelow(fds, 300)).toBe(21);
  });
});

describe('limitsProblem', () => {
  const broken = { role: 'broken', leaks: true, ulimit: 64, reloads: 500, fdsPerReload: 2 };
  it('broken needs its baseline plus one reload of fds, and EMFILE comes where the verdict predicts it', () => {
    expect(ulimitNeeded(broken, 20)).toBe(22);
    expect(emfileReload(broken, 20)).toBe(23);
    expect(emfileReload({ ...broken, ulimit: 63 }, 20)).toBe(22);
    expect(limitsProblem(broken, 20)).toBeNull();
    expect(limitsProblem({ ...broken, reloads: 23 }, 20)).toBeNull();
    expect(limitsProblem({ ...broken, reloads: 22 }, 20)).toMatch(/^--reloads 22 is too few .* EMFILE comes at reload 23; use --reloads 23 or more/);
    expect(limitsProblem({ ...broken, ulimit: 21 }, 20)).toMatch(/^--ulimit 21 leaves the broken child no room to leak .*; use --ulimit 22 or more$/);
    expect(limitsProblem({ ...broken, ulimit: 10 }, 20)).toMatch(/^--ulimit 10 is below what the broken child needs to start .*; use --ulimit 22 or more$/);
  });
  it('correct needs its baseline, and any number of reloads', () => {
    const correct = { role: 'correct', leaks: false, ulimit: 24, reloads: 1, fdsPerReload: 0 };
    expect(limitsProblem(correct, 24)).toBeNull();
    expect(limitsProblem({ ...correct, ulimit: 23 }, 24)).toBe('--ulimit 23 is below what the correct child needs to start (24 fds when ready); use --ulimit 24 or more');
  });
  it('a reload that holds more than it leaks (a runtime per round) needs room for its peak, and EMFILE comes earlier', () => {
    // Measured for runtime-teardown's Python child: 3 fds when ready, 8 left per round, 12 at a round's peak.
    const rounds = { role: 'broken', leaks: true, ulimit: 20, reloads: 500, fdsPerReload: 8, peakFds: 12 };
    expect(ulimitNeeded(rounds, 3)).toBe(15);
    expect(limitsProblem({ ...rounds, ulimit: 14 }, 3)).toMatch(/^--ulimit 14 leaves the broken child no room to leak \(3 fds when ready, then 8 more per reload; one reload holds 12 more at its peak\); use --ulimit 15 or more$/);
    // Round 1 peaks at 3 + 12 = 15 ≤ 20; round 2 needs 3 + 8 + 12 = 23 > 20.
    expect(emfileReload(rounds, 3)).toBe(2);
    expect(emfileReload({ ...rounds, ulimit: 23 }, 3)).toBe(3);
    const correct = { role: 'correct', leaks: false, ulimit: 14, reloads: 500, fdsPerReload: 0, peakFds: 12 };
    expect(limitsProblem(correct, 3)).toBe('--ulimit 14 leaves the correct child no room for one reload (3 fds when ready; one reload holds 12 more at its peak); use --ulimit 15 or more');
    expect(limitsProblem({ ...correct, ulimit: 15 }, 3)).toBeNull();
  });
});

describe('planning a compare: which child speaks, and when a start-up must be measured', () => {
  const leaking = { role: 'broken', leaks: true, ulimit: 64, reloads: 500, fdsPerReload: 2 };
  const flat = { role: 'correct', leaks: false, ulimit: 64, reloads: 500, fdsPerReload: 0 };

  it('measures only when --reloads could be too few for a leaking child whatever it holds', () => {
    expect(reloadsMayBeTooFew([leaking, flat])).toBe(false);
    expect(reloadsMayBeTooFew([{ ...leaking, reloads: 32 }, flat])).toBe(true);
    expect(reloadsMayBeTooFew([{ ...flat, reloads: 1 }])).toBe(false);
  });

  it('the child that needs the most speaks first, so the advice covers every role', () => {
    expect(firstLimitsProblem([{ limits: { ...flat, ulimit: 30 }, slots: 40 }, { limits: { ...leaking, ulimit: 30 }, slots: 20 }])).toBe(
      '--ulimit 30 is below what the correct child needs to start (40 fds when ready); use --ulimit 40 or more',
    );
    expect(firstLimitsProblem([{ limits: leaking, slots: 20 }, { limits: flat, slots: 20 }])).toBeNull();
  });

  it('a role is planned to leak only when it must reach EMFILE', () => {
    const expectation = { registerFailure: 'expected', fdsPerReload: 2 } as Parameters<typeof limitsFor>[1];
    expect(limitsFor('broken', expectation, { ulimit: 64, reloads: 500 })).toEqual({ role: 'broken', leaks: true, ulimit: 64, reloads: 500, fdsPerReload: 2, peakFds: undefined });
    expect(limitsFor('correct', { ...expectation, registerFailure: 'forbidden' }, { ulimit: 64, reloads: 500 }).leaks).toBe(false);
  });
});
