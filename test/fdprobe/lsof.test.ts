import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLsofFields } from '../../src/fdprobe/lsof.js';

// Recorded from `lsof -n -P -w -a -d 0-999999 -p PID -F ftPn` on a Node process holding one of each.
const recorded = readFileSync(new URL('../fixtures/lsof/node-server.txt', import.meta.url), 'utf8');

describe('parseLsofFields', () => {
  const entries = parseLsofFields(recorded);
  const kindOf = (fd: number) => entries.find((e) => e.fd === fd)?.kind;

  it('keeps only numeric descriptors', () => {
    expect(entries.map((e) => e.fd)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 251]);
  });

  it('maps lsof types and names to fd kinds', () => {
    expect(kindOf(0)).toBe('device');
    expect(kindOf(3)).toBe('eventpoll');
    expect(kindOf(4)).toBe('pipe');
    expect(kindOf(8)).toBe('eventfd');
    expect(kindOf(19)).toBe('unix');
    expect(kindOf(20)).toBe('file');
    expect(kindOf(21)).toBe('deleted');
    expect(kindOf(22)).toBe('directory');
    expect(kindOf(23)).toBe('tcp');
    expect(kindOf(24)).toBe('udp');
  });

  it('reads an anon inode with a suffix (`[eventpoll:11,13]`) by its leading word', () => {
    expect(parseLsofFields('p1\nf5\nta_inode\nn[eventpoll:11,13]\n')).toEqual([{ fd: 5, kind: 'eventpoll', target: '[eventpoll:11,13]' }]);
  });

  it('returns nothing for empty output', () => {
    expect(parseLsofFields('')).toEqual([]);
  });
});
