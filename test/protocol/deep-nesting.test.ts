// A child can put anything in a protocol line; the run document must still be writable.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultProbe } from '../../src/fdprobe/index.js';
import { runReloadLoop } from '../../src/harness/drivers/reload-loop.js';
import { parseEvent, parseLine } from '../../src/protocol/events.js';
import { isAlive } from '../support/processes.js';

const child = fileURLToPath(new URL('../fixtures/children/nests-deep.mjs', import.meta.url));

describe('an event with a field nested 20 000 deep', () => {
  it('is read as the event with only its protocol fields', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const event = parseEvent(`{"event":"shutdown","closedFds":1,"removedListeners":2,"nested":${deep},"leakedFds":"x"}`);
    expect(event).toEqual({ event: 'shutdown', closedFds: 1, removedListeners: 2 });
  });

  it('from a real child: the run completes and its document serialises and re-parses', async () => {
    const doc = await runReloadLoop(
      {
        scenario: 'fixture',
        role: 'correct',
        roleKind: 'correct',
        runtime: 'node',
        options: {},
        metrics: [],
        command: [process.execPath, child],
        signal: 'SIGHUP',
        ulimit: 256,
        reloadsPlanned: 3,
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
    expect(JSON.parse(text)).toMatchObject({ role: 'correct', samples: expect.any(Array) });
    expect(isAlive(doc.pid as number)).toBe(false);
  });
});

describe('an event of a name the harness has no rules for', () => {
  it('is kept, cut to a few levels, so a scenario can report its own events and no child can make the document unwritable', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const line = `{"event":"phase","round":3,"name":"closes-queued","nested":${deep}}`;
    const parsed = parseLine(line);
    expect(parsed && 'other' in parsed ? parsed.other : undefined).toMatchObject({ event: 'phase', round: 3, name: 'closes-queued', nested: [[['…']]] });
    expect(() => JSON.stringify(parsed)).not.toThrow();
  });
});
