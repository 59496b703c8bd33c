import { describe, expect, it } from 'vitest';
import { emfileReload, limitsProblem, slotsBelow, ulimitNeeded } from '../../src/cli/commands/plan-limits.js';

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
});
