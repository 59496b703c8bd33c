// What an output path names decides how it is written: regular files atomically (links followed),
// devices, FIFOs, sockets and inherited fds straight through, never replaced. Real nodes (mknod,
// mkfifo, a listening socket), a real full tmpfs in a private mount namespace, the built CLI.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, repro } from '../support/cli.js';
import { waitFor } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-targets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' };
/** A saved run document of about 140 KiB: more than the 64 KiB tmpfs below can hold. */
const doc = join(dir, 'doc.json');
let docText: string;

beforeAll(async () => {
  const made = await repro(['correct', '--reloads', '500', '--out', doc]);
  expect(made.exitCode).toBe(0);
  docText = readFileSync(doc, 'utf8');
  expect(docText.length).toBeGreaterThan(100 * 1024);
}, 60_000);

/** `repro report doc.json …`: every view of a saved run, no children. */
const report = (...args: string[]) => repro(['report', doc, ...args]);
const sub = (name: string) => {
  const path = join(dir, name);
  mkdirSync(path);
  return path;
};
const noTemps = (d: string) => readdirSync(d).filter((f) => f.endsWith('.tmp'));

describe('regular files and symlinks', () => {
  it("a regular file is replaced atomically and keeps the existing file's mode", async () => {
    const d = sub('mode');
    const path = join(d, 'run.json');
    writeFileSync(path, 'old');
    chmodSync(path, 0o600);
    const result = await report('--out', path);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(docText);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(noTemps(d)).toEqual([]);
  });

  it("a symlink is followed: its target is replaced (mode kept), the link stays a link", async () => {
    const d = sub('link');
    writeFileSync(join(d, 'real.csv'), 'old');
    chmodSync(join(d, 'real.csv'), 0o640);
    symlinkSync('real.csv', join(d, 'link.csv'));
    const result = await report('--csv', join(d, 'link.csv'));
    expect(result.exitCode).toBe(0);
    expect(lstatSync(join(d, 'link.csv')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(d, 'link.csv'))).toBe('real.csv');
    expect(readFileSync(join(d, 'real.csv'), 'utf8')).toMatch(/^run,reload,elapsed_ms,fds/);
    expect(statSync(join(d, 'real.csv')).mode & 0o777).toBe(0o640);
    expect(noTemps(d)).toEqual([]);
  });

  it('a dangling symlink is followed: the file it names is created, the link stays', async () => {
    const d = sub('dangling');
    symlinkSync('made.svg', join(d, 'link.svg'));
    const result = await report('--svg', join(d, 'link.svg'));
    expect(result.exitCode).toBe(0);
    expect(lstatSync(join(d, 'link.svg')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'made.svg'), 'utf8')).toMatch(/^<svg /);
  });
});

describe('devices, FIFOs, sockets and fds: written straight through, never replaced', () => {
  it('a null device (mknod c 1 3) discards the output and stays a character device', async () => {
    const d = sub('null');
    await execa('mknod', [join(d, 'null'), 'c', '1', '3']);
    const result = await report('--out', join(d, 'null'), '--html', join(d, 'null'));
    expect(result.exitCode).toBe(0);
    const after = statSync(join(d, 'null'));
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(statSync('/dev/null').rdev);
  });

  it('a full device (mknod c 1 7): exit 3 after the summary, one line naming the file and ENOSPC, still a device', async () => {
    const d = sub('full');
    const full = join(d, 'full');
    await execa('mknod', [full, 'c', '1', '7']);
    const result = await report('--junit', full, '--csv', join(d, 'run.csv'));
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toContain('PASS: the correct pattern stays flat');
    expect(result.stderr).toBe(`repro: --junit ${full}: cannot write (ENOSPC: no space left on device); nothing was replaced (a character device is written straight through)`);
    expect(statSync(full).isCharacterDevice()).toBe(true);
    // Nothing collected is lost: the other output is still written.
    expect(readFileSync(join(d, 'run.csv'), 'utf8')).toMatch(/^run,reload/);
  });

  it('two failing outputs: one line for each, in order, after the summary; exit 3', async () => {
    const d = sub('full-twice');
    await execa('mknod', [join(d, 'full'), 'c', '1', '7']);
    const result = await report('--svg', join(d, 'full'), '--csv', join(d, 'full'));
    expect(result.exitCode).toBe(3);
    expect(result.stderr.split('\n')).toEqual([
      `repro: --svg ${join(d, 'full')}: cannot write (ENOSPC: no space left on device); nothing was replaced (a character device is written straight through)`,
      `repro: --csv ${join(d, 'full')}: cannot write (ENOSPC: no space left on device); nothing was replaced (a character device is written straight through)`,
    ]);
  });

  it('a symlink to /dev/stdout prints the output (the summary moves to stderr) and stays a link', async () => {
    const d = sub('stdout');
    symlinkSync('/dev/stdout', join(d, 'to-stdout'));
    const result = await report('--svg', join(d, 'to-stdout'));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^<svg [^]*<\/svg>\n?$/);
    expect(result.stderr).toContain('PASS: the correct pattern stays flat');
    expect(readlinkSync(join(d, 'to-stdout'))).toBe('/dev/stdout');
  });

  it('a path naming fd 1 counts as stdout: with --json it is two outputs on stdout (exit 2)', async () => {
    const d = sub('stdout-twice');
    symlinkSync('/proc/self/fd/1', join(d, 'fd1'));
    const result = await report('--json', '--csv', join(d, 'fd1'));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^repro: --json and --csv .*fd1 both write to stdout; send all but one to a file$/);
  });

  it('a FIFO with a reader waiting gets every byte and EOF, and stays a FIFO', async () => {
    const d = sub('fifo');
    const fifo = join(d, 'fifo');
    await execa('mkfifo', [fifo]);
    const reader = execa('cat', [fifo], { reject: false, stripFinalNewline: false });
    try {
      // Wait until the reader really is in open() of the FIFO (it blocks there until a writer comes).
      await waitFor('cat to block in open() of the FIFO', () => (readFileSync(`/proc/${reader.pid}/wchan`, 'utf8') === 'wait_for_partner' ? true : undefined));
      const result = await report('--out', fifo);
      const read = await reader;
      expect(result.exitCode).toBe(0);
      // cat ended by itself: it saw EOF.
      expect(read.exitCode).toBe(0);
      expect(read.stdout).toBe(docText);
    } finally {
      reader.kill('SIGKILL');
    }
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a FIFO nobody reads: one line saying so, exit 3, no hang, still a FIFO', async () => {
    const d = sub('fifo-alone');
    const fifo = join(d, 'fifo');
    await execa('mkfifo', [fifo]);
    const result = await report('--markdown', fifo);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(`repro: --markdown ${fifo}: cannot write (no process has the FIFO open for reading); start its reader first, e.g. cat FIFO &`);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a listening Unix socket gets the document, and stays a socket', async () => {
    const d = sub('socket');
    const path = join(d, 'sock');
    const server = createServer();
    let received = '';
    const done = new Promise<void>((resolve) => {
      server.on('connection', (conn) => {
        conn.setEncoding('utf8');
        conn.on('data', (text: string) => (received += text));
        conn.on('end', () => resolve());
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const result = await report('--out', path);
    expect(result.exitCode).toBe(0);
    await done;
    expect(lstatSync(path).isSocket()).toBe(true);
    await new Promise((r) => server.close(r));
    expect(received).toBe(docText);
  });

  it('/dev/fd/3 given by the parent gets the output', async () => {
    const child = execa(process.execPath, [BIN, 'report', doc, '--csv', '/dev/fd/3'], { reject: false, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdio[3]?.on('data', (b: Buffer) => chunks.push(b));
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(Buffer.concat(chunks).toString('utf8')).toMatch(/^run,reload,elapsed_ms,fds[^]*\r\n$/);
  });

  it('process substitution, --out >(wc -c) under bash: the reader gets every byte', async () => {
    const count = join(dir, 'wc-count');
    const result = await execa('bash', ['-c', `"${process.execPath}" "${BIN}" report "${doc}" --out >(wc -c > "${count}"); rc=$?; wait $!; exit $rc`], { reject: false, env });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(Number(readFileSync(count, 'utf8').trim())).toBe(Buffer.byteLength(docText));
  });

  it("an fd that is repro's own (libuv's epoll or self-pipe) is refused before anything is written (exit 2)", async () => {
    // fd 3 of a Node process is its event loop's epoll when nothing else was inherited there.
    const result = await execa(process.execPath, [BIN, 'report', doc, '--out', '/dev/fd/3'], { reject: false, env, stdin: 'ignore' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^repro: --out \/dev\/fd\/3: fd 3 is (repro's own|a pipe whose reader is repro itself).*; give a file path, or an fd the shell opened for repro/);
  });
});

describe('short writes and full disks', () => {
  it('a full 64 KiB tmpfs (unshare -m): the old file stays byte for byte, no temp, exit 3 after the summary, one line naming the file and ENOSPC', async () => {
    const d = sub('tmpfs');
    const small = join(d, 'small');
    mkdirSync(small);
    const old = `${JSON.stringify({ old: true, pad: 'x'.repeat(2000) })}\n`;
    writeFileSync(join(d, 'old.json'), old);
    const target = join(small, 'run.json');
    const script = [
      `mount -t tmpfs -o size=64k tmpfs "${small}"`,
      `cp "${d}/old.json" "${target}"`,
      `"${process.execPath}" "${BIN}" report "${doc}" --out "${target}" --csv "${d}/run.csv"`,
      'rc=$?',
      // The mount is private to this namespace: copy what is there out before it goes.
      `cp "${target}" "${d}/after.json"`,
      `ls -A "${small}" > "${d}/listing"`,
      'exit $rc',
    ].join('\n');
    const result = await execa('unshare', ['-m', 'sh', '-c', script], { reject: false, env });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toContain('PASS: the correct pattern stays flat');
    expect(result.stderr).toBe(`repro: --out ${target}: cannot write (ENOSPC: no space left on device); the old file is left as it was`);
    expect(readFileSync(join(d, 'after.json'), 'utf8')).toBe(old);
    expect(readFileSync(join(d, 'listing'), 'utf8')).toBe('run.json\n');
    expect(readFileSync(join(d, 'run.csv'), 'utf8')).toMatch(/^run,reload/);
  });
});

describe('paths checked before anything starts (exit 2, one line)', () => {
  // A run that would take hours: these must be refused before it starts.
  const longRun = ['correct', '--reloads', '10000000'];
  const flags = ['--out', '--svg', '--html', '--markdown', '--junit', '--csv'];

  it.each(flags)('%s "": an empty path', async (flag) => {
    const result = await repro([...longRun, flag, '']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`repro: ${flag} needs a file path, got an empty one; give a file name, or - for stdout`);
  });

  it.each(flags)('%s under a regular file: its parent is not a directory', async (flag) => {
    const file = join(dir, `plain-${flag.slice(2)}`);
    writeFileSync(file, 'x');
    const result = await repro([...longRun, flag, join(file, 'report')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`repro: ${flag} ${join(file, 'report')}: ${file} is not a directory; pick a path inside a directory`);
  });

  it.each([
    ['--out', '--html'],
    ['--svg', '--csv'],
    ['--markdown', '--junit'],
  ])('%s x and %s x name the same file', async (a, b) => {
    const path = join(dir, `same-${a.slice(2)}`);
    const result = await repro([...longRun, a, path, b, path]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`repro: ${a} ${path} and ${b} ${path} name the same file; give each output its own path`);
  });

  it('two spellings of one file, and a symlink to the other output, are the same file', async () => {
    const d = sub('same');
    writeFileSync(join(d, 'x.json'), 'old');
    symlinkSync('x.json', join(d, 'link.json'));
    mkdirSync(join(d, 'sub'));
    const viaLink = await repro([...longRun, '--out', join(d, 'x.json'), '--junit', join(d, 'link.json')]);
    expect(viaLink.exitCode).toBe(2);
    expect(viaLink.stderr).toMatch(/name the same file/);
    const spelled = await repro([...longRun, '--out', join(d, 'new.json'), '--csv', `${d}/./sub/../new.json`]);
    expect(spelled.exitCode).toBe(2);
    expect(spelled.stderr).toMatch(/name the same file/);
    expect(readFileSync(join(d, 'x.json'), 'utf8')).toBe('old');
  });

  it('- is still allowed for one output', async () => {
    const result = await report('--out', '-', '--csv', join(dir, 'with-stdout.csv'));
    expect(result.exitCode).toBe(0);
    // (execa strips the final newline)
    expect(result.stdout).toBe(docText.trimEnd());
  });
});
