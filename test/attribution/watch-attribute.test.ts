/**
 * repro watch --attribute on real leaking programs in three languages (C
 * built here with gcc, Python, Node), through the built CLI: the right call,
 * the reload it was made in, a frame of the program's own code where the
 * runtime has native frames (C); for Python and Node the frames shown are the
 * interpreter's (os.pipe's C implementation, node::fs::Open), marked
 * `runtime`. Coverage ≥ 95% on the leaks; the labelled reasons for fds no
 * call made (received through SCM_RIGHTS, inherited from the start). Without
 * strace or without ptrace: exit 3, one line. The tracer is not measured and
 * dies with the run, also after SIGKILL of repro.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLValidator } from 'fast-xml-parser';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { BIN, repro } from '../support/cli.js';
import { goneWithin, isAlive, waitFor } from '../support/processes.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const schema = JSON.parse(readFileSync(new URL('../../schema/run-document.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

/** An interpreter starting under strace -k (every import's opens unwound) took 18-32 s at load 6-8, whichever build: more than vitest's 30 s default. */
const START_UNDER_STRACE_MS = 120_000;

let dir: string;
const bin = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repro-attribute-'));
  for (const name of ['leaks-signalfd-in-named-function-per-hup', 'receives-fd-and-forks-on-hup']) execFileSync('gcc', ['-O2', '-Wall', '-o', bin(name), service(`${name}.c`)]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function attribute(command: string[], extra: string[] = []) {
  const out = join(dir, `run-${Math.random().toString(36).slice(2)}`);
  const result = await repro(['watch', '--attribute', '--reloads', '8', '--out', `${out}.json`, '--html', `${out}.html`, '--markdown', `${out}.md`, '--junit', `${out}.xml`, ...extra, '--', ...command], { timeout: 90_000 });
  const doc = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as RunDocument;
  const views = { html: readFileSync(`${out}.html`, 'utf8'), md: readFileSync(`${out}.md`, 'utf8'), junit: readFileSync(`${out}.xml`, 'utf8') };
  return { result, doc, views };
}

function checkViews(doc: RunDocument, views: { html: string; md: string; junit: string }, stdout: string, phrase: string) {
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  expect(stdout).toContain('where the survivors came from (--attribute):');
  expect(stdout).toContain(phrase);
  expect(views.html).toContain('Where the survivors came from');
  expect(views.md).toContain('**Where the survivors came from**');
  expect(XMLValidator.validate(views.junit)).toBe(true);
  // The JUnit failure message itself names the call.
  expect(/<failure message="([^"]*)"/.exec(views.junit)?.[1]).toContain(phrase.replaceAll('"', '&quot;'));
}

describe('repro watch --attribute on leaking programs', () => {
  it('C: signalfd4 per reload, made in open_reload_notifier, first at reload 1; fdinfo names the signal; every survivor attributed', async () => {
    const { result, doc, views } = await attribute([bin('leaks-signalfd-in-named-function-per-hup')]);
    expect(result.exitCode).toBe(1);
    const a = doc.attribution;
    expect(a?.survivors).toBe(8);
    expect((a?.attributed ?? 0) / (a?.survivors ?? 1)).toBeGreaterThanOrEqual(0.95);
    const g = a?.groups[0];
    expect(g).toMatchObject({ origin: 'call', syscall: 'signalfd4', count: 8, perReload: 1, firstReload: 1, createdAtReload: 1, frameOrigin: 'program', fdinfo: 'signalfd for SIGUSR1' });
    expect(g?.frames[0]?.symbol).toBe('open_reload_notifier');
    // The tracer is not part of the measured tree.
    expect(doc.tree?.processes.map((p) => p.command).join(' ')).not.toContain('strace');
    expect(doc.tree?.processesSeen).toBe(1);
    expect(doc.tree?.completion).toBe('threads-and-fd-floor');
    checkViews(doc, views, result.stdout, '1 per reload from signalfd4(-1, [USR1], 8, SFD_CLOEXEC)');
    expect(result.stdout).toContain('program frames: open_reload_notifier ← main');
  });

  it('Python: pipe2 per reload from os.pipe in the handler, 2 per reload, first at reload 1; the frames are the interpreter\'s', async () => {
    const { result, doc, views } = await attribute([PYTHON, service('leaks-pipe-per-hup.py')]);
    expect(result.exitCode).toBe(1);
    const a = doc.attribution;
    expect(a?.survivors).toBe(16);
    expect((a?.attributed ?? 0) / (a?.survivors ?? 1)).toBeGreaterThanOrEqual(0.95);
    expect(a?.groups[0]).toMatchObject({ origin: 'call', syscall: 'pipe2', count: 16, perReload: 2, firstReload: 1, createdAtReload: 1, frameOrigin: 'runtime' });
    expect(a?.groups[0]?.frames[0]?.object).toMatch(/python3/);
    checkViews(doc, views, result.stdout, '2 per reload from pipe2([3, 4], O_CLOEXEC)');
  }, START_UNDER_STRACE_MS);

  it('Node: openat per reload from fs.openSync in the listener, under node::fs::Open, first at reload 1', async () => {
    const { result, doc, views } = await attribute([process.execPath, service('opens-file-per-hup-and-keeps-it.mjs')], ['--ready-timeout', '30000']);
    expect(result.exitCode).toBe(1);
    const a = doc.attribution;
    expect(a?.survivors).toBeGreaterThanOrEqual(8);
    expect((a?.attributed ?? 0) / (a?.survivors ?? 1)).toBeGreaterThanOrEqual(0.95);
    const g = a?.groups.find((x) => x.args?.includes('/etc/hostname'));
    expect(g).toMatchObject({ origin: 'call', syscall: 'openat', count: 8, firstReload: 1, createdAtReload: 1, frameOrigin: 'runtime' });
    expect(g?.frames.map((f) => f.symbol).join(' ')).toContain('node::fs::Open');
    checkViews(doc, views, result.stdout, 'from openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC)');
  }, START_UNDER_STRACE_MS);

  it('labels what no call made: fds received through SCM_RIGHTS, and a forked helper\'s stdio inherited from the start', async () => {
    const { result, doc } = await attribute([bin('receives-fd-and-forks-on-hup')]);
    expect(result.exitCode).toBe(1);
    const groups = doc.attribution?.groups ?? [];
    const received = groups.find((g) => g.origin === 'scm-rights' && g.createdInPid === undefined);
    expect(received).toMatchObject({ syscall: 'recvmsg', count: 8, firstReload: 1, createdAtReload: 1 });
    const inherited = groups.find((g) => g.origin === 'inherited');
    expect(inherited?.fds.slice(0, 3)).toEqual([0, 1, 2]);
    expect(inherited?.pid).not.toBe(received?.pid);
    // Every survivor is accounted for: a call, or a reason.
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(doc.attribution?.survivors);
    expect(result.stdout).toContain('received through SCM_RIGHTS by recvmsg(');
    expect(result.stdout).toContain('inherited from the start');
  });
});

describe('repro watch --attribute cannot run', () => {
  it('without strace on PATH: exit 3, one line saying what to install, nothing run', async () => {
    const path = join(dir, 'path-without-strace');
    mkdirSync(path, { recursive: true });
    for (const tool of ['true', 'mkfifo', 'sh']) {
      try {
        symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(path, tool));
      } catch {
        // already there
      }
    }
    const result = await repro(['watch', '--attribute', '--reloads', '2', '--', PYTHON, service('leaks-pipe-per-hup.py')], { env: { PATH: path } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim().split('\n')).toEqual(['repro: --attribute needs strace, which is not on PATH: install it (apt-get install strace, dnf install strace, apk add strace)']);
  });

  it('where ptrace is refused (a seccomp filter, as a container without SYS_PTRACE has): exit 3, one line saying what to allow', async () => {
    const source = join(dir, 'no-ptrace.c');
    writeFileSync(
      source,
      `#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  (void)argc;
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ptrace, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = 4, .filter = f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) return 125;
  execvp(argv[1], argv + 1);
  return 127;
}
`,
    );
    execFileSync('gcc', ['-O2', '-o', bin('no-ptrace'), source]);
    const result = await execa(bin('no-ptrace'), [process.execPath, BIN, 'watch', '--attribute', '--reloads', '2', '--', PYTHON, service('leaks-pipe-per-hup.py')], { reject: false, env: { NO_COLOR: '1' } });
    expect(result.exitCode).toBe(3);
    const lines = String(result.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^repro: --attribute: strace cannot trace here \(.*\): allow ptrace \(run as root or with CAP_SYS_PTRACE/);
  });

  it('refuses --pid with --attribute (exit 2): it traces a program repro starts', async () => {
    const result = await repro(['watch', '--attribute', '--pid', String(process.pid)]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--attribute traces a program repro starts');
  });
});

/**
 * The python process running `script` under a tracer (strace attaches before the exec), and its tracer's pid,
 * both from one read: a short run's program may be gone by the time the test looks again.
 */
function tracedProgram(script: string): Promise<{ program: number; tracer: number }> {
  return waitFor('the traced program', () => {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const argv = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
        if (argv[0] !== PYTHON || !argv[1]?.endsWith(script)) continue;
        const tracer = Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1] ?? 0);
        if (tracer > 0) return { program: Number(name), tracer };
      } catch {
        // gone
      }
    }
    return undefined;
  }, 20_000);
}

describe('the tracer goes with the run', () => {
  it('after SIGKILL of repro, the program and its tracer are gone within 2 s, and no repro-trace-* directory of the run remains', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'repro-killed-'));
    const run = execa(process.execPath, [BIN, 'watch', '--attribute', '--reloads', '1000', '--', PYTHON, service('leaks-pipe-per-hup.py')], { reject: false, env: { NO_COLOR: '1', TMPDIR: tmp } });
    const { program, tracer } = await tracedProgram('leaks-pipe-per-hup.py');
    expect(readFileSync(`/proc/${tracer}/comm`, 'utf8').trim()).toBe('strace');
    // Let a few reloads run under the tracer first.
    await new Promise((r) => setTimeout(r, 700));
    run.kill('SIGKILL');
    await run;
    expect(await goneWithin(program, 2000)).toBe(true);
    expect(await goneWithin(tracer, 2000)).toBe(true);
    expect(isAlive(tracer)).toBe(false);
    const left = readdirSync(tmp).filter((name) => name.startsWith('repro-trace-'));
    rmSync(tmp, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it('after a normal run the tracer is gone too', async () => {
    const run = execa(process.execPath, [BIN, 'watch', '--attribute', '--reloads', '3', '--json', '--', PYTHON, service('leaks-pipe-per-hup.py')], { reject: false, env: { NO_COLOR: '1' } });
    const { program, tracer } = await tracedProgram('leaks-pipe-per-hup.py');
    const result = await run;
    expect(result.exitCode).toBe(1);
    expect(isAlive(tracer)).toBe(false);
    expect(isAlive(program)).toBe(false);
  }, START_UNDER_STRACE_MS);
});
