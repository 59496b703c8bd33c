// A saved document is input nobody should trust (issue 20): repro report refuses one whose numbers cannot have been measured.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TreeRun } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));

describe('repro report refuses a document the schema refuses (issue 17 item 5)', () => {
  let dir: string;
  let doc: TreeRun;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'repro-constraints-'));
    const saved = join(dir, 'run.json');
    // A real run of a service that leaks a pipe per SIGHUP.
    const run = await repro(['watch', '--reloads', '4', '--out', saved, '--', 'python3', service('leaks-pipe-per-hup.py')]);
    expect(run.exitCode).toBe(1);
    doc = JSON.parse(readFileSync(saved, 'utf8')) as TreeRun;
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `repro report` of the document after `edit`. */
  async function reportEdited(name: string, edit: (copy: TreeRun) => void) {
    const copy = structuredClone(doc);
    edit(copy);
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(copy));
    return repro(['report', file]);
  }

  it('reads the document as saved', async () => {
    const report = await reportEdited('as-saved', () => undefined);
    expect(report.exitCode).toBe(1);
  });

  it('a negative fd count: exit 2, naming the field', async () => {
    const report = await reportEdited('negative', (copy) => {
      (copy.samples[1] as { fds: number }).fds = -3;
    });
    expect(report.exitCode).toBe(2);
    expect(report.stderr).toMatch(/\/samples\/1\/fds: must be >= 0/);
  });

  it('a fractional fd count of a process: exit 2, naming the field', async () => {
    const report = await reportEdited('fractional', (copy) => {
      const first = copy.tree?.processes[0];
      if (!first) throw new Error('the watched tree lists no process');
      first.fdsLast += 0.5;
    });
    expect(report.exitCode).toBe(2);
    expect(report.stderr).toMatch(/\/tree\/processes\/0\/fdsLast: must be integer/);
  });

  it('a startedAt that is no ISO 8601 time: exit 2, naming the field', async () => {
    const report = await reportEdited('started-at', (copy) => {
      copy.startedAt = 'yesterday';
    });
    expect(report.exitCode).toBe(2);
    expect(report.stderr).toMatch(/\/startedAt: must match pattern/);
  });
});
