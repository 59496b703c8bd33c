/**
 * Stopping a child that stops itself again after the first SIGCONT (the runtime-teardown C child
 * raises SIGSTOP after each phase marker; a Ctrl-C that lands just before that left it stopped with
 * its SIGTERM unread until SIGKILL 2 s later). The harness keeps resuming a stopping child through
 * the grace period, so it exits on its own SIGTERM, quickly and unforced. A real Python child.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launchChild } from '../../src/harness/launch.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/stops-itself-after-sigcont.py', import.meta.url));

describe('stop() on a child that stops itself after the first SIGCONT', () => {
  it('resumes it again, so it reads its SIGTERM and exits 0 within the grace period, not SIGKILLed', async () => {
    const child = launchChild({ command: ['python3', FIXTURE] });
    await child.output.waitFor((e) => e.event === 'ready', 10_000, 'ready');
    const exit = await child.stop(3000);
    expect(exit).toMatchObject({ exitCode: 0, signal: null, forced: false });
  });
});
