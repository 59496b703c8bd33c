import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-noexec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a program that exists but cannot be executed is the machine’s state (exit 3), not a typo (exit 2)', () => {
  const script = join(dir, 'server.sh');
  writeFileSync(script, '#!/bin/sh\nexec sleep 600\n');
  chmodSync(script, 0o644);

  it.each([
    ['watch', ['watch', '--', script]],
    ['drain', ['drain', '--url', 'http://127.0.0.1:8000/', '--', script]],
  ])('repro %s of a mode 644 script: exit 3, one line naming the file, its mode and chmod +x', async (_name, args) => {
    const result = await repro(args);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(`repro: cannot execute ${script}: it is not executable (mode 644); chmod +x it, or put its interpreter first (e.g. -- sh ${script})`);
  });

  it('a path with no file at all is still exit 2, command not found', async () => {
    const result = await repro(['watch', '--', join(dir, 'missing')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^repro: command not found: .*missing \(no executable file there\)/);
  });
});
