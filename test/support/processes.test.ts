// The /proc helpers the tests read processes with say "gone" (undefined) for a process that exited,
// instead of throwing ENOENT into a test that only sampled it a moment too late (issue 22: a
// runtime-teardown compare once died in its own helper on ENOENT /proc/PID/cmdline).
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { argvOf, fdTargets, procFile, procLink } from './processes.js';

describe('a process that has exited', () => {
  it('reads as gone from every helper, not as an error', async () => {
    const child = execa('sleep', ['0.2'], { stdio: 'ignore' });
    const pid = child.pid as number;
    // While it runs, each helper sees it.
    expect(argvOf(pid)?.[0]).toBe('sleep');
    expect(fdTargets(pid)).toEqual(expect.arrayContaining(['/dev/null']));
    expect(procLink(pid, 'exe')).toMatch(/sleep$/);
    await child;
    expect(procFile(pid, 'status')).toBeUndefined();
    expect(argvOf(pid)).toBeUndefined();
    expect(fdTargets(pid)).toBeUndefined();
    expect(procLink(pid, 'exe')).toBeUndefined();
  });
});
