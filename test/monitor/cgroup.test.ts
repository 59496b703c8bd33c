/**
 * `repro monitor --cgroup`: every process of a real cgroup (and its child
 * cgroups), read again at each collection. The test makes a cgroup of its own
 * in the v2 tree where it may (root, a writable cgroupfs); skipped with one
 * line elsewhere.
 */
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, sampleValue, scrape, startMonitor, startService, stop, type Started } from './support.js';

const ROOTS = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

/** A new cgroup with a child, under the first v2 root that takes one; undefined where none does. */
function makeCgroup(): { dir: string; child: string } | undefined {
  for (const root of ROOTS) {
    const dir = join(root, `repro-monitor-test-${process.pid}`);
    try {
      mkdirSync(dir);
      mkdirSync(join(dir, 'worker'));
      return { dir, child: join(dir, 'worker') };
    } catch {
      // not writable here
    }
  }
  return undefined;
}

const cgroup = makeCgroup();
if (!cgroup) console.log('cgroup.test.ts skipped: no writable cgroup v2 tree here (needs root)');

describe.skipIf(!cgroup)('repro monitor --cgroup', () => {
  const running: Started[] = [];
  afterAll(async () => {
    for (const s of running.reverse()) await stop(s);
    // Empty once its processes are gone; a child first.
    if (cgroup) for (const d of [cgroup.child, cgroup.dir]) await eventually(`rmdir ${d}`, async () => { try { rmdirSync(d); return true; } catch { return undefined; } }, 5000).catch(() => undefined);
  });

  it('watches the processes of the cgroup and of its child cgroups, and one moved in later', async () => {
    const { dir, child } = cgroup as { dir: string; child: string };
    const tag = `repro-mon-cgroup-${process.pid}`;
    const [a, b] = await Promise.all([startService('correct', `${tag}-a`), startService('correct', `${tag}-b`)]);
    running.push(a, b);
    writeFileSync(join(dir, 'cgroup.procs'), String(a.pid));
    const monitor = await startMonitor(['--cgroup', dir, '--listen', '127.0.0.1:0', '--interval', '100ms']);
    running.push(monitor);
    const port = monitor.port as number;
    const match = `cgroup:${dir}`;
    let body = (await scrape(port)).body;
    expect(sampleValue(body, 'repro_process_open_fds', { pid: String(a.pid), match })).toBeGreaterThan(0);
    expect(sampleValue(body, 'repro_process_open_fds', { pid: String(b.pid) })).toBeUndefined();
    writeFileSync(join(child, 'cgroup.procs'), String(b.pid));
    body = await eventually('the process moved in', async () => {
      const next = (await scrape(port)).body;
      return sampleValue(next, 'repro_process_open_fds', { pid: String(b.pid), match }) === undefined ? undefined : next;
    });
    expect(sampleValue(body, 'repro_monitor_matched_processes', { match })).toBe(2);
    await stop(monitor, 'SIGTERM');
  });
});
