/**
 * state-on-shutdown's Rust service (tokio on one thread, built offline from
 * Debian's crates). Its first build takes about 90 s on two loaded cores,
 * over this suite's budget: the suite checks the one line a machine without
 * cargo gets, and runs the compare only where the build is already cached;
 * the compares themselves are run by hand (docs/scenarios/state-on-shutdown.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ledgerFailure } from '../../src/kinds/ledger/judge.js';
import type { CompareDocument, LedgerRun } from '../../src/model/run-document.js';
import { rustBuilt, STATE_ON_SHUTDOWN_PROJECT } from '../../src/runtimes/cargo.js';
import { repro, reproJson } from '../support/cli.js';

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

  it.runIf(rustBuilt(STATE_ON_SHUTDOWN_PROJECT))('compare (built already): no-persistence killed by SIGTERM, racy-snapshot exit 0 with acknowledged increments missing, correct keeps every one', async () => {
    const { exitCode, run: doc } = await reproJson<CompareDocument>(['compare', '--scenario', 'state-on-shutdown', '--runtime', 'rust'], { timeout: 60_000 });
    expect(exitCode).toBe(0);
    const ledger = (role: string) => {
      const run = doc?.runs.find((r) => r.role === role) as LedgerRun | undefined;
      if (!run?.ledger) throw new Error(`no ledger for ${role}`);
      return run.ledger;
    };
    expect(ledgerFailure(ledger('no-persistence'))).toBe('killed-by-signal');
    expect(ledgerFailure(ledger('racy-snapshot'))).toBe('exit-0-but-lost');
    expect(ledger('racy-snapshot').entries.lost).toBeGreaterThan(0);
    expect(ledgerFailure(ledger('correct'))).toBe('none');
    expect(ledger('correct').entries.lost).toBe(0);
  }, 60_000);
});
