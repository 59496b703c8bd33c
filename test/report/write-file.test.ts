import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOutput } from '../../src/report/write-file.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const writer = fileURLToPath(new URL('../fixtures/writes-documents-forever.mjs', import.meta.url));
const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('writeOutput', () => {
  it('replaces the file and leaves no temp file', async () => {
    const path = join(dir, 'plain.json');
    writeFileSync(path, 'old');
    await writeOutput(path, '{"new":true}', '--out');
    expect(readFileSync(path, 'utf8')).toBe('{"new":true}');
    expect(temps()).toEqual([]);
  });

  it('SIGKILL at random points mid-write: the old file or a complete new one, never a partial one', async () => {
    const path = join(dir, 'killed.json');
    writeFileSync(path, JSON.stringify({ n: 0, old: true }));
    for (let round = 0; round < 8; round++) {
      const child = execa(process.execPath, [writer, path], { reject: false });
      await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 150));
      child.kill('SIGKILL');
      await child;
      const doc = JSON.parse(readFileSync(path, 'utf8')) as { old?: boolean; complete?: boolean };
      expect(doc.old === true || doc.complete === true).toBe(true);
      // Data is written to an unnamed O_TMPFILE: a temp name exists only between link and rename,
      // and one left by a writer killed right there is complete and swept by the next write.
      for (const temp of temps()) expect(JSON.parse(readFileSync(join(dir, temp), 'utf8')).complete).toBe(true);
    }
    await writeOutput(path, '{"last":true}', '--out');
    expect(temps()).toEqual([]);
  });
});
