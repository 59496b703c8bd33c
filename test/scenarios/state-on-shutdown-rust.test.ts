/**
 * state-on-shutdown's Rust service (tokio on one thread, built offline from
 * Debian's crates). Its first build takes about 90 s on two loaded cores,
 * over this suite's budget: the suite checks the one line a machine without
 * cargo gets; the compares are run by hand (docs/scenarios/state-on-shutdown.md).
 * No compare that runs only where the build happens to be cached: in CI it
 * would never run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repro } from '../support/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'repro-sos-rust-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('state-on-shutdown --runtime rust', () => {
  it('without cargo: one line naming what to install, exit 3, before anything runs', async () => {
    const emptyPath = mkdtempSync(join(scratch, 'no-cargo-'));
    const result = await repro(['compare', '--scenario', 'state-on-shutdown', '--runtime', 'rust'], { env: { PATH: emptyPath } });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toBe("repro: --runtime rust: the rust runtime needs cargo and Debian's librust-tokio-dev (missing: cargo); install them with: apt-get install -y cargo librust-tokio-dev");
  });
});
