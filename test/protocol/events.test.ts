import { describe, expect, it } from 'vitest';
import { formatEvent, parseEvent } from '../../src/protocol/events.js';

describe('parseEvent', () => {
  it('reads each event the protocol defines', () => {
    expect(parseEvent('{"event":"ready","pid":7,"scenario":"s","pattern":"broken","runtime":"python 3.11"}')).toMatchObject({ event: 'ready', pid: 7 });
    expect(parseEvent('{"event":"reload","seq":3,"listeners":4}')).toEqual({ event: 'reload', seq: 3, listeners: 4 });
    expect(parseEvent('{"event":"register-failed","seq":23,"code":"EMFILE","message":"m"}')).toMatchObject({ code: 'EMFILE' });
    expect(parseEvent('{"event":"shutdown","closedFds":4,"removedListeners":2}')).toMatchObject({ closedFds: 4 });
  });

  it.each([
    ['plain text', 'reloading config...'],
    ['broken JSON', '{"event":"reload",'],
    ['an array', '[1,2]'],
    ['an unknown event', '{"event":"hello","seq":1}'],
    ['a reload without seq', '{"event":"reload","listeners":1}'],
    ['a negative seq', '{"event":"reload","seq":-1,"listeners":1}'],
    ['a string seq', '{"event":"reload","seq":"1","listeners":1}'],
    ['a prototype key as event', '{"event":"constructor"}'],
  ])('ignores %s', (_what, line) => {
    expect(parseEvent(line)).toBeUndefined();
  });

  it('round-trips what formatEvent writes, one line each', () => {
    const line = formatEvent({ event: 'reload', seq: 1, listeners: 1 });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    expect(parseEvent(line)).toEqual({ event: 'reload', seq: 1, listeners: 1 });
  });
});
