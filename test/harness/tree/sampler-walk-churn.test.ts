/**
 * The tree sample under fd churn: the procfs listing walks fd numbers up to
 * the count the kernel gave, and a process that opens fds in holes ahead of
 * the walk (a server accepting under load) fills the count before the walk
 * reaches its highest fd. That fd (an inherited one, 251 here) must be in
 * every sample: once missed, it read as reopened at the next sample and was
 * counted a survivor of that reload (seen in reload-under-load, watch --url).
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { TreeSampler } from '../../../src/harness/tree/sampler.js';

const CHURN = `
import os, socket
os.dup2(os.pipe()[0], 251)
holes = [socket.socket() for _ in range(40)]
for s in holes[::2]: s.close()
print("up", flush=True)
while True:
    fresh = [socket.socket() for _ in range(20)]
    for s in fresh: s.close()
`;

let child: ReturnType<typeof spawn> | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

describe('tree sample under fd churn', () => {
  it('keeps the highest fd in every sample and counts no survivor while low fds open and close in holes', async () => {
    child = spawn('python3', ['-c', CHURN], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child?.stdout?.once('data', () => resolve()));
    const pid = child.pid as number;
    const sampler = new TreeSampler(pid, { includeRoot: true });
    let missed = 0;
    const samples = 200;
    for (let reload = 0; reload <= samples; reload++) {
      const { tree } = sampler.sample(reload);
      if (!tree.processes[0]?.entries?.some((e) => e.fd === 251)) missed += 1;
    }
    expect(missed).toBe(0);
    const report = sampler.survivors(samples);
    expect(report.survivedKinds.pipe ?? 0).toBe(0);
  }, 60_000);
});
