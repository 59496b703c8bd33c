/**
 * In every test worker: no process warning (MaxListenersExceededWarning and
 * friends) may be emitted by the harness code under test, and each test file
 * must give back every fd it opened in this process.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';

const warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
let fdsBefore: Set<string>;

const openFds = () => new Set(readdirSync('/proc/self/fd'));

beforeAll(() => {
  process.on('warning', onWarning);
  fdsBefore = openFds();
});

afterAll(async () => {
  process.removeListener('warning', onWarning);
  expect(warnings, 'process warnings during this file').toEqual([]);
  // Closing is asynchronous for streams: give the last closes a moment.
  let extra: string[] = [];
  for (let i = 0; i < 20; i++) {
    extra = [...openFds()].filter((fd) => !fdsBefore.has(fd));
    if (extra.length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(extra, 'fds opened by this file and never closed').toEqual([]);
});
