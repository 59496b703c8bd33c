// repro watch never says PASS about a signal that cannot run a reload, and never harms what it
// attaches to: the disposition of every process a signal would reach is checked before every send,
// a process group is checked as a whole (repro and its ancestors are never in it), and a process
// held by a tracer is said to be traced, by whom.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { BIN, repro, reproJson } from '../support/cli.js';
import { isAlive, procFile, waitFor } from '../support/processes.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));

const started: { child: ResultPromise; detached: boolean }[] = [];
function start(file: string, args: string[], options: { detached?: boolean } = {}): ResultPromise & { pid: number } {
  const child = execa(file, args, { reject: false, stdin: 'ignore', ...options });
  started.push({ child, detached: options.detached ?? false });
  return child as ResultPromise & { pid: number };
}
// Each case runs repro once or twice: minutes, not seconds, when other jobs load the machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

afterEach(async () => {
  for (const { child, detached } of started.splice(0)) {
    try {
      // A group of its own goes as a whole (the children it forked hold its pipes).
      if (detached) process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // gone
    }
    child.kill('SIGKILL');
    await child;
  }
});

function watch(args: string[]) {
  return reproJson<RunDocument>(['watch', '--no-chart', '--settle', '60', ...args]);
}

// Generous: on a loaded machine an interpreter behind a version manager's shim takes seconds to start.
const catches = (pid: number, signo: number) => waitFor(`pid ${pid}'s handler`, () => ((BigInt(`0x${/^SigCgt:\s+(\S+)/m.exec(procFile(pid, 'status') ?? '')?.[1] ?? '0'}`) >> BigInt(signo - 1)) & 1n ? true : undefined), 60_000);

const SLEEPS = 'import time\nwhile True:\n    time.sleep(3600)';

describe('a signal whose default action is to ignore it runs no reload: exit 4, never PASS', () => {
  it.each(['WINCH', 'URG', 'CHLD', 'CONT'])('--signal %s to a program without a handler', async (signal) => {
    const { exitCode, run } = await watch(['--reloads', '3', '--signal', signal, '--', 'python3', '-c', SLEEPS]);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('no-handler');
    expect(run?.end.detail).toMatch(new RegExp(`^the program \\(pid \\d+, python3\\) has no handler for SIG${signal}, whose default action (is to ignore it|only continues a stopped process): no reload can run`));
  });

  it('... and with --signal-to tree, when no process of the tree takes it', async () => {
    const { exitCode, run } = await watch(['--reloads', '3', '--signal', 'WINCH', '--signal-to', 'tree', '--', 'sh', '-c', 'python3 -c "import time; time.sleep(3600)"; true']);
    expect(exitCode).toBe(4);
    expect(run?.end.detail).toMatch(/^the program \(pid \d+, sh\) and every process of its tree have no handler for SIGWINCH/);
  });

  it('--pid of a process without a WINCH handler: exit 4, left running', async () => {
    const sleeper = start('python3', ['-c', SLEEPS]);
    await waitFor('python to be up', () => (procFile(sleeper.pid, 'cmdline')?.includes('time') ? true : undefined));
    const { exitCode, run } = await watch(['--reloads', '3', '--signal', 'WINCH', '--pid', String(sleeper.pid)]);
    expect(exitCode).toBe(4);
    expect(run?.end.detail).toMatch(/has no handler for SIGWINCH, whose default action is to ignore it: no reload can run/);
    expect(isAlive(sleeper.pid)).toBe(true);
  });

  it('a WINCH handler is still watched (exit 0)', async () => {
    const { exitCode, run } = await watch(['--reloads', '3', '--signal', 'WINCH', '--', 'python3', '-c', 'import signal\nsignal.signal(signal.SIGWINCH, lambda *_: None)\nwhile True:\n    signal.pause()']);
    expect(exitCode, run?.end.detail).toBe(0);
  });
});

describe('--pid: the disposition is checked before every send', () => {
  it('a process that restores SIG_DFL in its first reload is not killed by the second signal: exit 4, left running, the reason said', async () => {
    const target = start('python3', ['-c', 'import signal\ndef once(*_):\n    signal.signal(signal.SIGHUP, signal.SIG_DFL)\nsignal.signal(signal.SIGHUP, once)\nwhile True:\n    signal.pause()']);
    await catches(target.pid, 1);
    const { exitCode, run } = await watch(['--reloads', '4', '--pid', String(target.pid)]);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('no-handler');
    expect(run?.end.detail).toMatch(new RegExp(`^reload 2 was not sent: process ${target.pid} has no handler for SIGHUP, whose default action kills it: refusing to send it \\(pick the signal its reload handler catches with --signal\\) \\(pid ${target.pid}: \\S*python3 -c import signal def once.*\\); it got no signal and was left running$`));
    expect(run?.samples.map((s) => s.reload)).toEqual([0, 1]);
    expect(isAlive(target.pid)).toBe(true);
  });
});

describe('--pid … --signal-to group: every process of the group is checked before anything is sent', () => {
  it('a group that holds the test runner and repro itself is refused (exit 2), naming them, and nobody gets the signal', async () => {
    let hups = 0;
    const count = () => (hups += 1);
    process.on('SIGHUP', count);
    try {
      // Started without a group of its own: the same group as this test process, and as the repro it starts.
      const target = start('python3', [service('leaks-pipe-per-hup.py')]);
      await catches(target.pid, 1);
      const result = await repro(['watch', '--reloads', '2', '--signal-to', 'group', '--pid', String(target.pid)]);
      expect(result.exitCode).toBe(2);
      // Other processes of this group (another test file's repro, in the other worker) may be named first, as bystanders.
      const pgid = Number(readFileSync(`/proc/${target.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]);
      expect(result.stderr).toMatch(new RegExp(`^repro: --pid ${target.pid} --signal-to group: SIGHUP to process group ${pgid} would reach processes that must not get it: (.*; )?repro itself and its ancestors: .*pid ${process.pid} \\(`));
      expect(result.stderr).toMatch(/start the service in a group of its own \(setsid\) or send to the process alone/);
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(hups).toBe(0);
      expect(isAlive(target.pid)).toBe(true);
    } finally {
      process.removeListener('SIGHUP', count);
    }
  });

  it('a bystander without a handler in the group is named (exit 2) and left running', async () => {
    // A group of its own: a leader with a handler and a `sleep` child without one.
    const leader = start('python3', ['-c', 'import signal, subprocess\nsignal.signal(signal.SIGHUP, lambda *_: None)\np = subprocess.Popen(["sleep", "300"])\nprint(p.pid, flush=True)\nwhile True:\n    signal.pause()'], { detached: true });
    const bystander = await new Promise<number>((resolve) => leader.stdout?.once('data', (b: Buffer) => resolve(Number(String(b).trim()))));
    await catches(leader.pid, 1);
    const result = await repro(['watch', '--reloads', '2', '--signal-to', 'group', '--pid', String(leader.pid)]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`pid ${bystander} (sleep 300): has no handler for SIGHUP, whose default action kills it`);
    expect(isAlive(bystander)).toBe(true);
    expect(isAlive(leader.pid)).toBe(true);
  });

  it('a group of its own whose every process takes the signal is watched (exit 0)', async () => {
    const leader = start('python3', ['-c', 'import os, signal\nsignal.signal(signal.SIGHUP, lambda *_: None)\nos.fork()\nwhile True:\n    signal.pause()'], { detached: true });
    await catches(leader.pid, 1);
    const { exitCode, run } = await watch(['--reloads', '3', '--signal-to', 'group', '--pid', String(leader.pid)]);
    expect(exitCode, run?.end.detail).toBe(0);
    expect(run?.end.reason).toBe('reloads-done');
  });
});

describe('a traced process is said to be traced, and by whom', () => {
  it('strace -p that holds it (stopped tracer): not "send SIGCONT", the tracer named (exit 4)', async () => {
    const target = start('python3', [service('leaks-pipe-per-hup.py')]);
    await catches(target.pid, 1);
    const strace = execa('strace', ['-o', '/dev/null', '-p', String(target.pid)], { reject: false, stdin: 'ignore' });
    try {
      // Attached, and the tracee let run again (asleep in pause()): strace holds it in a stop while it attaches, and a
      // tracer stopped before it let go holds it from the start (start-up never settles; once in a loaded full run).
      const attachedAndRunning = (status: string) => /^TracerPid:\s+[1-9]/m.test(status) && /^State:\s+S/m.test(status);
      await waitFor('strace to attach', () => (attachedAndRunning(procFile(target.pid, 'status') ?? '') ? true : undefined), 60_000);
      // A stopped tracer never lets its tracee out of the next tracing stop.
      process.kill(strace.pid as number, 'SIGSTOP');
      const { exitCode, run } = await watch(['--reloads', '2', '--pid', String(target.pid)]);
      expect(exitCode).toBe(4);
      expect(run?.end.reason).toBe('not-delivered');
      expect(run?.end.detail).toMatch(new RegExp(`: the process is traced and held in a tracing stop \\(state t, thread ${target.pid}, by pid ${strace.pid} \\(strace -o /dev/null -p ${target.pid}\\)\\): SIGHUP (stays pending|cannot run a handler) until its tracer lets it run`));
      expect(run?.end.detail).not.toContain('SIGCONT');
    } finally {
      // The tracer goes first: a traced process that is killed is reaped only once its tracer lets go.
      strace.kill('SIGKILL');
      await strace;
    }
  });
});

describe('a program that kills its keeper does not outlive the run', () => {
  // The interpreter itself, not a version manager's shim (which forks helpers of its own).
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

  it('kill -9 $PPID; exec service: repro, the subreaper above the keeper, ends the service and says so (exit 4)', async () => {
    const { exitCode, run } = await watch(['--reloads', '3', '--', 'sh', '-c', `kill -9 $PPID; exec ${python} ${service('leaks-pipe-per-hup.py')}`]);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('child-exited');
    expect(run?.end.detail).toMatch(/^the keeper \(pid \d+, repro's process between it and the program\) was killed by SIGKILL while the program ran \(not by repro\)/);
    // The pid the note names: the keeper can die before it tells repro the program's pid (programPid null then).
    const ended = /^the keeper \(pid \d+\) was killed by SIGKILL under the program, not by repro: .*repro, their subreaper, ended pid (\d+) \((sh -c kill|\S*python3 \S*leaks-pipe-per-hup.py)/.exec(run?.tree?.keeperNote ?? '');
    expect(ended, run?.tree?.keeperNote).not.toBeNull();
    const program = Number(ended?.[1]);
    if (run?.tree?.programPid != null) expect(program).toBe(run.tree.programPid);
    expect(isAlive(program)).toBe(false);
  });

  it('... and what the program forked before it killed the keeper', async () => {
    const { exitCode, run } = await watch(['--reloads', '3', '--', 'sh', '-c', `${python} ${service('leaks-pipe-per-hup.py')} & kill -9 $PPID; wait`]);
    expect(exitCode).toBe(4);
    const ended = [...(run?.tree?.keeperNote ?? '').matchAll(/pid (\d+) \(/g)].map((m) => Number(m[1]));
    expect(ended).toHaveLength(2);
    expect(run?.tree?.keeperNote).toMatch(new RegExp(`ended pid ${run?.tree?.programPid} \\(sh -c .*\\), pid \\d+ \\(\\S*python3 \\S*leaks-pipe-per-hup.py\\)$`));
    for (const pid of ended) expect(isAlive(pid)).toBe(false);
  });
});

describe('a hot restart (--signal-to group; each signal forks the next generation, which inherits the fds, and the old one exits)', () => {
  it('is followed through its group, and the inherited stdio and listener are not survivors (exit 0)', async () => {
    const { exitCode, run } = await watch(['--reloads', '5', '--signal-to', 'group', '--', 'python3', service('hot-restarts-on-hup.py')]);
    expect(exitCode, run?.end.detail).toBe(0);
    expect(run?.end.reason).toBe('reloads-done');
    expect(run?.survivors?.survivorsPerReload).toBe(0);
    expect(run?.tree?.signalTargetNote).toMatch(/^the program \(pid \d+\) exited after a signal and its process group \d+ lived on in pid \d+ \(.*hot-restarts-on-hup.py\) by reload 2, a hot restart: signals went on to the group$/);
  });

  it('a generation that opens a pipe and keeps it is still a leak: 2 surviving per reload (exit 1)', async () => {
    const { exitCode, run } = await watch(['--reloads', '5', '--signal-to', 'group', '--', 'python3', service('hot-restarts-on-hup.py'), '--leak']);
    expect(exitCode, run?.end.detail).toBe(1);
    expect(run?.survivors?.survivorsPerReload).toBe(2);
    expect(run?.survivors?.byReload.map((r) => r.survived)).toEqual([2, 2, 2, 2, 2]);
  });

  it('... with pids wrapping at every fork (a pid namespace whose next pid is set back every 20 ms): generations reuse pids and the leak is still 2 per reload (exit 1)', async () => {
    // Root: a pid namespace of its own (so no other process on the machine gets its pids moved), whose init (sh) keeps setting
    // ns_last_pid to the top; every fork then takes the lowest free pid, and a hot restart's generations take turns on two pids.
    const script = '(while :; do echo 32767 > /proc/sys/kernel/ns_last_pid; sleep 0.02; done) & "$0" "$@"; rc=$?; kill $!; exit $rc';
    const args = ['watch', '--json', '--no-chart', '--settle', '60', '--reloads', '5', '--signal-to', 'group', '--', 'python3', service('hot-restarts-on-hup.py'), '--leak'];
    const result = await execa('/usr/bin/unshare', ['--pid', '--fork', '--mount-proc', '/bin/sh', '-c', script, process.execPath, BIN, ...args], { reject: false, stdin: 'ignore', timeout: 120_000, env: { NO_COLOR: '1' } });
    const run = JSON.parse(String(result.stdout)) as RunDocument;
    const pids = run.samples.map((s) => s.processes?.[0]?.pid);
    // The generations did reuse pids (else this case tests nothing).
    expect(new Set(pids).size, `pids ${pids.join(' ')}`).toBeLessThan(pids.length);
    expect(result.exitCode, run.end.detail).toBe(1);
    expect(run.survivors?.byReload.map((r) => r.survived)).toEqual([2, 2, 2, 2, 2]);
  });
});

describe('--signal-to tree counts what each process received: a signal a master forwards is not delivered twice', () => {
  it('a master that forwards HUP to its leaky worker: the worker is learnt to take it from the master, 2 fds per reload exactly (exit 1)', async () => {
    const { exitCode, run } = await watch(['--reloads', '6', '--signal-to', 'tree', '--', 'python3', service('master-forwards-hup-to-leaky-worker.py')]);
    expect(exitCode, run?.end.detail).toBe(1);
    expect(run?.survivors?.survivorsPerReload).toBe(2);
    expect(run?.survivors?.byReload.map((r) => r.survived)).toEqual([2, 2, 2, 2, 2, 2]);
    const worker = run?.tree?.grew?.pid;
    expect(run?.tree?.signalTargetNote).toMatch(new RegExp(`^pid ${worker} \\(python3\\) takes SIGHUP from its parent pid ${run?.tree?.programPid} \\(python3\\), which forwards it: sent only to the parent, so it reloads once per signal`));
  });

  it('a parent that does not forward: its child with a handler of its own still gets its own signal (4 fds per reload, exit 1)', async () => {
    const { exitCode, run } = await watch(['--reloads', '6', '--signal-to', 'tree', '--', 'python3', '-c', 'import os, signal\npipes = []\nsignal.signal(signal.SIGHUP, lambda *_: pipes.append(os.pipe()))\nos.fork()\nwhile True:\n    signal.pause()']);
    expect(exitCode, run?.end.detail).toBe(1);
    expect(run?.survivors?.byReload.map((r) => r.survived)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(run?.tree?.signalTargetNote).toBeUndefined();
  });
});
