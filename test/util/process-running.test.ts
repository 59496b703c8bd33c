/** processRunning: a zombie (exited, not reaped) is not running, though kill(pid, 0) still finds it. */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processExists, processRunning } from '../../src/util/process-exists.js';
import { procFile } from '../support/processes.js';

describe('processRunning', () => {
  // Python forks a child that exits at once and never waits for it: the child stays a zombie while the parent lives.
  // (A shell that starts a child and then execs a sleep reaped it when it exited before the exec: once in a full run.)
  let parent: ReturnType<typeof execa>;
  let zombie: number;

  beforeAll(async () => {
    parent = execa('python3', ['-c', 'import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)'], { reject: false, stdin: 'ignore' });
    zombie = await new Promise<number>((resolve) => parent.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    // Wait until the child has exited (state Z); it is never reaped while the sleep runs.
    for (let i = 0; i < 200 && !/^\d+ \(.*\) Z/.test(procFile(zombie, 'stat') ?? ''); i++) await new Promise((r) => setTimeout(r, 10));
  });

  afterAll(async () => {
    parent.kill('SIGKILL');
    await parent;
  });

  it('says a zombie is not running, where processExists still finds it', () => {
    expect(procFile(zombie, 'stat')).toMatch(/^\d+ \(.*\) Z/);
    expect(processExists(zombie)).toBe(true);
    expect(processRunning(zombie)).toBe(false);
  });

  it('says a live process is running, and a pid no process has is not', () => {
    expect(processRunning(parent.pid as number)).toBe(true);
    expect(processRunning(process.pid)).toBe(true);
    expect(processRunning(4_194_303)).toBe(false);
  });
});
