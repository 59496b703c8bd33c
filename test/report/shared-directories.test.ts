// Outputs in directories other users can write to (issue 20, items 5 and 6). In a sticky
// world-writable directory (like /tmp) a link owned by another user is not followed, whatever
// fs.protected_symlinks says: the kernel's rule (follow only a link of the follower or of the
// directory's owner), applied by repro, which resolves links itself. A real sticky directory, links
// chowned to nobody, the built CLI as root. And GITHUB_STEP_SUMMARY naming a FIFO nobody reads is
// refused at once, as --out is, instead of blocking the run's end until Ctrl-C.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repro } from '../support/cli.js';
import { procFile } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-shared-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const doc = fileURLToPath(new URL('../fixtures/documents/v1-watch-leak.json', import.meta.url));
const NOBODY = 65534;
const asRoot = process.geteuid?.() === 0;

let n = 0;
/** A fresh sticky world-writable directory (mode 1777, like /tmp) owned by `owner`, and a directory only root may write. */
function sharedDir(owner = 0): { shared: string; rootOnly: string } {
  const base = join(dir, `case-${++n}`);
  const shared = join(base, 'shared');
  const rootOnly = join(base, 'root-only');
  mkdirSync(shared, { recursive: true });
  mkdirSync(rootOnly, { mode: 0o700 });
  chmodSync(shared, 0o1777);
  if (owner !== 0) execFileSync('chown', [String(owner), shared]);
  return { shared, rootOnly };
}

/** `name` in `where`, a link to `target` owned by `uid`. */
function plant(where: string, name: string, target: string, uid: number): string {
  const link = join(where, name);
  symlinkSync(target, link);
  lchownSync(link, uid, uid);
  expect(lstatSync(link).uid).toBe(uid);
  return link;
}

describe.runIf(asRoot)('a link in a sticky world-writable directory (item 5)', () => {
  it("another user's link to a root-only directory is not followed: exit 3 before anything, nothing created there", async () => {
    const { shared, rootOnly } = sharedDir();
    const link = plant(shared, 'report.json', join(rootOnly, 'newfile'), NOBODY);
    const result = await repro(['report', doc, '--out', link]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(
      `repro: --out ${link}: not following the link ${link}: it belongs to uid ${NOBODY}, in ${shared}, a sticky world-writable directory (another user may have planted it, as fs.protected_symlinks refuses); remove the link or pick a path in a directory of your own`,
    );
    expect(existsSync(join(rootOnly, 'newfile'))).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('a link further along the chain counts too: root’s own link to a planted one is refused at the planted one', async () => {
    const { shared, rootOnly } = sharedDir();
    const planted = plant(shared, 'planted.md', join(rootOnly, 'newfile'), NOBODY);
    const mine = join(dir, `mine-${n}.md`);
    symlinkSync(planted, mine);
    const result = await repro(['report', doc, '--markdown', mine]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`not following the link ${planted}: it belongs to uid ${NOBODY}`);
    expect(existsSync(join(rootOnly, 'newfile'))).toBe(false);
  });

  it("the follower's own link, and a link of the directory's owner, are followed as the kernel would", async () => {
    const own = sharedDir();
    const mine = plant(own.shared, 'mine.json', join(own.rootOnly, 'a.json'), 0);
    expect((await repro(['report', doc, '--out', mine])).exitCode).toBe(1);
    expect(JSON.parse(readFileSync(join(own.rootOnly, 'a.json'), 'utf8'))).toMatchObject({ kind: 'run' });
    const theirs = sharedDir(NOBODY);
    const ownersLink = plant(theirs.shared, 'owner.json', join(theirs.rootOnly, 'b.json'), NOBODY);
    expect((await repro(['report', doc, '--out', ownersLink])).exitCode).toBe(1);
    expect(existsSync(join(theirs.rootOnly, 'b.json'))).toBe(true);
  });

  it('in a directory that is not sticky, or not world-writable, links are followed', async () => {
    for (const mode of [0o777, 0o1755]) {
      const { shared, rootOnly } = sharedDir();
      chmodSync(shared, mode);
      const link = plant(shared, 'r.json', join(rootOnly, 'c.json'), NOBODY);
      expect((await repro(['report', doc, '--out', link])).exitCode).toBe(1);
      expect(existsSync(join(rootOnly, 'c.json'))).toBe(true);
    }
  });

  it('GITHUB_STEP_SUMMARY naming a planted link: a warning, nothing written through it, the exit code is the run’s', async () => {
    const { shared, rootOnly } = sharedDir();
    const link = plant(shared, 'summary.md', join(rootOnly, 'summary.md'), NOBODY);
    const result = await repro(['report', doc], { env: { GITHUB_STEP_SUMMARY: link } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`repro: warning: could not append to the job summary, the run is unaffected: GITHUB_STEP_SUMMARY ${link}: not following the link`);
    expect(existsSync(join(rootOnly, 'summary.md'))).toBe(false);
  });
});

describe('GITHUB_STEP_SUMMARY naming a FIFO (item 6)', () => {
  it('with no reader: refused at once with one warning line, the summary and exit code as without it', async () => {
    const fifo = join(dir, 'summary.fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const result = await repro(['report', doc], { env: { GITHUB_STEP_SUMMARY: fifo }, timeout: 20_000 });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.stderr).toBe(
      `repro: warning: could not append to the job summary, the run is unaffected: GITHUB_STEP_SUMMARY ${fifo}: cannot write (no process has the FIFO open for reading); start its reader first, e.g. cat FIFO &`,
    );
    expect(result.stdout).toMatch(/^repro watch /);
  });

  it('with a reader: the Markdown goes through it', async () => {
    const fifo = join(dir, 'read.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = (await import('execa')).execa('cat', [fifo]);
    // The reader must be inside its open() (asleep, waiting for a writer) before repro opens: /proc shows when it is.
    const pid = reader.pid as number;
    for (let i = 0; i < 500; i++) {
      const stat = procFile(pid, 'stat') ?? '';
      if (stat.includes('(cat) S')) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const result = await repro(['report', doc], { env: { GITHUB_STEP_SUMMARY: fifo } });
    expect(result.exitCode, result.stderr).toBe(1);
    expect((await reader).stdout).toContain('repro watch');
  });
});
