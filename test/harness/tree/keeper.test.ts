// The keeper: the tree's subreaper and ancestor. Daemons re-parent to it and are reaped, and
// after SIGKILL of the controlling Node process no process of the tree is left within 2 s.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEEPER_FAILED_EXIT, keeperArgv, keeperBinary, programPidOf } from '../../../src/harness/tree/keeper.js';
import { descendants } from '../../../src/harness/tree/tree.js';
import { findOnPath } from '../../../src/util/find-executable.js';
import { goneWithin, isAlive, waitFor } from '../../support/processes.js';

const service = (name: string) => fileURLToPath(new URL(`../../fixtures/services/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-keeper-'));
const bin = (name: string) => join(dir, name);

beforeAll(() => {
  for (const name of ['daemonizes-and-leaks-pipe-per-hup', 'forks-children-holding-fds']) execFileSync('gcc', ['-O2', '-Wall', '-o', bin(name), service(`${name}.c`)]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in for repro: a Node process that starts the keeper (detached, as the launcher
 * does) and then does nothing. `fd3` gives the keeper a report socket; `setpriv` wraps the
 * keeper as the launcher does when setpriv is on PATH.
 */
const CONTROLLER = `
const { spawn } = require('node:child_process');
const [binary, fd3, setpriv, ...command] = process.argv.slice(1);
const argv = [binary, '--parent', String(process.pid), '--grace-ms', '500', '--', ...command];
const full = setpriv === '-' ? argv : [setpriv, '--pdeathsig', 'KILL', '--', ...argv];
const keeper = spawn(full[0], full.slice(1), { detached: true, stdio: ['ignore', 'inherit', 'inherit', fd3 === 'fd3' ? 'pipe' : 'ignore'] });
if (keeper.stdio[3]) keeper.stdio[3].on('data', (d) => process.stdout.write('report ' + d));
console.log('keeper ' + keeper.pid);
setInterval(() => {}, 1000);
`;

async function startControlled(command: string[], options: { fd3: boolean; setpriv?: string }) {
  const controller = spawn(process.execPath, ['-e', CONTROLLER, keeperBinary(), options.fd3 ? 'fd3' : '-', options.setpriv ?? '-', ...command], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  controller.stdout.setEncoding('utf8');
  controller.stdout.on('data', (d: string) => (out += d));
  const keeperPid = await waitFor('the keeper pid', () => {
    const m = /keeper (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  });
  return { controller, keeperPid, output: () => out };
}

/** Every pid of the tree below (and including) the keeper. */
const treeOf = (keeperPid: number) => descendants(keeperPid).map((p) => p.pid);

async function killControllerAndExpectNothingLeft(controller: ReturnType<typeof spawn>, pids: number[]) {
  const exited = new Promise((r) => controller.once('exit', r));
  controller.kill('SIGKILL');
  await exited;
  const started = performance.now();
  const left = async () => {
    for (const pid of pids) if (!(await goneWithin(pid, Math.max(0, 2000 - (performance.now() - started))))) return pid;
    return undefined;
  };
  const survivor = await left();
  if (survivor !== undefined) for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  expect(survivor, `pid ${survivor} of the watched tree still alive 2 s after SIGKILL of the controller`).toBeUndefined();
}

describe('the keeper is the subreaper of the watched tree', () => {
  it('a daemon (double fork + setsid) re-parents to the keeper, and the intermediate processes are reaped, not left as zombies', async () => {
    const pidfile = join(dir, 'daemon-a.pid');
    const { controller, keeperPid } = await startControlled([bin('daemonizes-and-leaks-pipe-per-hup'), pidfile], { fd3: true });
    try {
      const daemon = await waitFor('the daemon pidfile', () => (existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) : undefined));
      const ppid = await waitFor('the daemon re-parented', () => {
        const d = descendants(keeperPid).find((p) => p.pid === daemon);
        return d?.ppid === keeperPid ? d.ppid : undefined;
      });
      expect(ppid).toBe(keeperPid);
      // The program (exited 0) and the first child (exited) are reaped by the keeper: no zombie below it.
      await waitFor('no zombie below the keeper', () => (descendants(keeperPid).every((p) => p.state !== 'Z') ? true : undefined));
      expect(descendants(keeperPid, { includeRoot: false }).map((p) => p.pid)).toEqual([daemon]);
    } finally {
      await killControllerAndExpectNothingLeft(controller, treeOf(keeperPid));
    }
  });

  it('reports the program pid and its exit on fd 3, and mirrors its exit status when the tree is empty', async () => {
    const { controller, keeperPid, output } = await startControlled(['/bin/sh', '-c', 'sleep 0.2; exit 7'], { fd3: true });
    const program = await waitFor('the program line', () => Number(/report program (\d+)/.exec(output())?.[1]) || undefined);
    expect(programPidOf(keeperPid) ?? program).toBe(program);
    await waitFor('the exit line', () => (output().includes(`exit ${program} code 7`) ? true : undefined));
    expect(await goneWithin(keeperPid, 2000)).toBe(true);
    controller.kill('SIGKILL');
  });

  it('starts nothing when its parent is not the one it was told (the parent died before the parent-death signal was armed)', () => {
    const marker = join(dir, 'should-not-exist');
    const [file, ...args] = keeperArgv(['/bin/sh', '-c', `touch ${marker}`], { parentPid: 1 });
    let status = 0;
    try {
      execFileSync(file as string, args, { stdio: 'ignore' });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(KEEPER_FAILED_EXIT);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('after SIGKILL of the controlling Node process, no process of the tree is left within 2 s', () => {
  it.each([
    ['fd 3 report socket', { fd3: true }],
    ['parent-death signal only (no fd 3)', { fd3: false }],
    ['under setpriv --pdeathsig KILL, as the launcher wraps it', { fd3: false, setpriv: findOnPath('setpriv') ?? '/usr/bin/setpriv' }],
  ])('a daemonized service and 200 forked children holding fds (%s)', async (_how, options) => {
    const pidfile = join(dir, `daemon-${Math.random().toString(36).slice(2)}.pid`);
    const script = `"$0" "$1"; exec "$2" 200 20`;
    const { controller, keeperPid } = await startControlled(['/bin/sh', '-c', script, bin('daemonizes-and-leaks-pipe-per-hup'), pidfile, bin('forks-children-holding-fds')], options);
    const pids = await waitFor(
      'the daemon and 200 children',
      () => {
        const tree = treeOf(keeperPid);
        return existsSync(pidfile) && tree.length >= 1 + 1 + 1 + 200 ? tree : undefined;
      },
      20_000,
    );
    expect(pids).toContain(Number(readFileSync(pidfile, 'utf8')));
    await killControllerAndExpectNothingLeft(controller, pids);
  });
});
