import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeError } from '../../src/fdprobe/errors.js';
import { ProcfsProbe, parseLimits, parseRssKb } from '../../src/fdprobe/procfs.js';

const fixture = fileURLToPath(new URL('../fixtures/holds-one-of-each.py', import.meta.url));

describe('ProcfsProbe on a process holding one fd of each kind', () => {
  const probe = new ProcfsProbe();
  let child: ReturnType<typeof execa>;
  let held: Record<string, string>;

  beforeAll(async () => {
    child = execa('python3', [fixture], { stdin: 'pipe', stdout: 'pipe', reject: false });
    held = await new Promise((resolve, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as Record<string, string>));
      child.once('exit', () => reject(new Error('fixture exited before printing its fds')));
    });
  });

  afterAll(async () => {
    child.stdin?.end();
    await child;
  });

  it('classifies every fd the fixture opened as the kind it opened', async () => {
    const entries = await probe.list(child.pid as number);
    const byFd = new Map(entries.map((e) => [String(e.fd), e.kind]));
    for (const [fd, kind] of Object.entries(held)) expect({ fd, kind: byFd.get(fd) }).toEqual({ fd, kind });
    expect(Object.values(held)).toEqual(expect.arrayContaining(['pipe', 'unix', 'tcp', 'udp', 'signalfd', 'eventfd', 'eventpoll', 'inotify', 'timerfd', 'pidfd', 'file', 'directory', 'device', 'deleted']));
  });

  it('lists the same fds on its first listing (readlinkSync) and on later ones (readlinkat through koffi)', () => {
    const fresh = new ProcfsProbe();
    const first = fresh.listSync(child.pid as number);
    const second = fresh.listSync(child.pid as number);
    const third = fresh.listSync(child.pid as number);
    expect(first.length).toBeGreaterThanOrEqual(Object.keys(held).length);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  });

  it('counts the same number of fds it lists', async () => {
    expect(await probe.count(child.pid as number)).toBe((await probe.list(child.pid as number)).length);
  });

  it('reads the soft and hard limit and the RSS', async () => {
    const limits = await probe.limits(child.pid as number);
    expect(limits.soft).toBeGreaterThan(0);
    expect(limits.hard).toBeGreaterThanOrEqual(limits.soft as number);
    expect(await probe.rssKb(child.pid as number)).toBeGreaterThan(1000);
  });
});

describe('ProcfsProbe lists fd tables with holes', () => {
  it('finds fds far past a gap (the fd-number walk hands over to readdir)', async () => {
    const sparse = fileURLToPath(new URL('../fixtures/holds-sparse-fds.py', import.meta.url));
    const child = execa('python3', [sparse], { stdin: 'pipe', stdout: 'pipe', reject: false });
    try {
      const expected = await new Promise<number[]>((resolve, reject) => {
        child.stdout?.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as number[]));
        child.once('exit', () => reject(new Error('fixture exited before printing its fds')));
      });
      // The fixture's own listing includes the fd its listdir used; the probe sees the table afterwards.
      const entries = new ProcfsProbe().listSync(child.pid as number);
      const fds = entries.map((e) => e.fd);
      expect(fds).toEqual(expect.arrayContaining([200, 3000]));
      expect(fds).toEqual([...fds].sort((a, b) => a - b));
      expect(fds.filter((fd) => !expected.includes(fd))).toEqual([]);
      expect(entries.find((e) => e.fd === 3000)?.kind).toBe('pipe');
      // Later listings of the same probe: the second walks and finds the gap, the third goes to readdir at once; all agree.
      const probe = new ProcfsProbe();
      const listings = [1, 2, 3].map(() => probe.listSync(child.pid as number));
      for (const listing of listings) expect(listing).toEqual(entries);
    } finally {
      child.stdin?.end();
      await child;
    }
  });
});

describe('ProcfsProbe errors', () => {
  it('reports a process that is gone as `gone`, not a crash', async () => {
    const done = execa('true');
    await done;
    const error = await new ProcfsProbe().list(done.pid as number).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProbeError);
    expect((error as ProbeError).failure).toBe('gone');
  });
});

describe('procfs parsers', () => {
  it('reads Max open files from /proc/<pid>/limits', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            64                   4096                 files\n';
    expect(parseLimits(text)).toEqual({ soft: 64, hard: 4096 });
    expect(parseLimits('Max open files            unlimited            unlimited            files')).toEqual({ soft: null, hard: null });
  });
  it('reads VmRSS from /proc/<pid>/status', () => {
    expect(parseRssKb('Name:\tnode\nVmRSS:\t   48120 kB\n')).toBe(48120);
    expect(parseRssKb('Name:\tkthreadd\n')).toBeUndefined();
  });
});
