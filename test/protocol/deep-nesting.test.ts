// A child can put anything in a protocol line; the run document must still be writable.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultProbe } from '../../src/fdprobe/index.js';
import { runScenario } from '../../src/harness/run.js';
import { parseEvent } from '../../src/protocol/events.js';
import { isAlive } from '../support/processes.js';

const child = fileURLToPath(new URL('../fixtures/children/nests-deep.mjs', import.meta.url));

describe('an event with a field nested 20 000 deep', () => {
  it('is read as the event with only its protocol fields', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const event = parseEvent(`{"event":"shutdown","closedFds":1,"removedListeners":2,"nested":${deep},"leakedFds":"x"}`);
    expect(event).toEqual({ event: 'shutdown', closedFds: 1, removedListeners: 2 });
  });

  it('from a real child: the run completes and its document serialises and re-parses', async () => {
    const doc = await runScenario(
      {
        scenario: 'fixture',
        pattern: 'correct',
        channel: 'none',
        command: [process.execPath, child],
        signal: 'SIGHUP',
        ulimit: 256,
        reloads: 3,
        fdsPerReload: 0,
        maxGrowth: 0.01,
        readyTimeoutMs: 5000,
        ackTimeoutMs: 2000,
        deadCheckMs: 300,
        graceMs: 500,
      },
      { probe: defaultProbe() },
    );
    expect(doc.end.reason).toBe('reloads-done');
    const ready = doc.events.find((e) => e.event === 'ready');
    expect(ready).toMatchObject({ event: 'ready', pid: doc.pid });
    expect(Object.keys(ready ?? {})).not.toContain('nested');
    const text = JSON.stringify(doc);
    expect(JSON.parse(text)).toMatchObject({ pattern: 'correct', samples: expect.any(Array) });
    expect(isAlive(doc.pid as number)).toBe(false);
  });
});
