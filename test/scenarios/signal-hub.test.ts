import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../fixtures/hub-loaded-twice.mjs', import.meta.url));

describe('signal hub (real process, real SIGHUP)', async () => {
  const { stdout, exitCode } = await execa(process.execPath, [fixture, '15']);
  const seen = JSON.parse(stdout) as Record<string, unknown>;

  it('exits cleanly', () => {
    expect(exitCode).toBe(0);
  });

  it('is one hub even when its module is loaded twice', () => {
    expect(seen.modulesDiffer).toBe(true);
    expect(seen.sameHub).toBe(true);
  });

  it('opens one channel (2 fds) for fifteen subscribers and removes them all on close', () => {
    expect(seen.fdsAdded).toBe(2);
    expect(seen.fdsAfterClose).toBe(0);
    expect(seen.listeners).toBe(0);
  });

  it('fans one signal out to fifteen subscribers exactly once each', () => {
    expect([...(seen.firstRound as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });

  it('unsubscribe removes one subscriber and is idempotent', () => {
    expect(seen.secondRound as number[]).toHaveLength(14);
    expect(seen.secondRound).not.toContain(0);
  });

  it('close() releases once; a second close releases nothing', () => {
    expect(seen.release).toEqual({ closedFds: 2, removedListeners: 1 });
    expect(seen.again).toEqual({ closedFds: 0, removedListeners: 0 });
  });
});
