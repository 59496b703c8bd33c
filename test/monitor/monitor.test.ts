/**
 * `repro monitor` as a user runs it: a real exporter process over real
 * services; bad input refused in one line; SIGTERM ends it with exit 0, its
 * listener closed and its textfile whole.
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { closeSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../../src/util/find-executable.js';
import { monitorOptions } from '../../src/cli/commands/monitor.js';
import { resolveCgroup } from '../../src/monitor/discovery.js';
import { listenAddress, parseDuration } from '../../src/monitor/options.js';
import { repro } from '../support/cli.js';
import { eventually, sampleValue, scrape, startMonitor, startService, stop, type Started } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-monitor-'));
const running: Started[] = [];
afterAll(async () => {
  for (const s of running.reverse()) await stop(s);
  rmSync(dir, { recursive: true, force: true });
});
const tagOf = (what: string) => `repro-mon-${what}-${process.pid}-${Date.now()}`;

describe('repro monitor: bad input is one line naming the flag and the fix, exit 2', () => {
  const fifo = join(dir, 'fifo.prom');
  execFileSync('mkfifo', [fifo]);
  symlinkSync(join(dir, 'real.prom'), join(dir, 'link.prom'));
  // Through the CLI (a process each): the line and the exit code as a user sees them.
  it.concurrent.each([
    [['--pid', '1', '--listen', '0.0.0.0:9464'], /^repro: --listen 0\.0\.0\.0:9464: .*loopback only.*use 127\.0\.0\.1:9464/],
    [['--match', '(unclosed', '--listen', '127.0.0.1:0'], /^repro: --match '\(unclosed' is not a valid regular expression/],
    [['--pid', '1', '--textfile', fifo], /^repro: --textfile .*fifo\.prom: is a FIFO/],
  ])('repro monitor %j', async (args, message) => {
    const result = await repro(['monitor', ...args]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
  // The same parsers in-process: each throws the one line the CLI prints.
  const flags = { interval: '5s', age: '10m' };
  it.each([
    ['HOST:PORT', () => listenAddress('127.0.0.1'), /--listen takes HOST:PORT/],
    ['no selector', () => monitorOptions({ ...flags, listen: { host: '127.0.0.1', port: 0 } }), /needs processes to watch: give --pid PID, --match REGEX or --cgroup PATH/],
    ['no output', () => monitorOptions({ ...flags, pid: [1] }), /needs somewhere to put its metrics/],
    ['a link', () => monitorOptions({ ...flags, pid: [1], textfile: join(dir, 'link.prom') }), /--textfile .*link\.prom: is a symbolic link/],
    ['not .prom', () => monitorOptions({ ...flags, pid: [1], textfile: join(dir, 'metrics.txt') }), /reads only \*\.prom files/],
    ['--log alone', () => monitorOptions({ ...flags, pid: [1], textfile: join(dir, 'a.prom'), log: 'x.log' }), /--log x\.log needs --reload-pattern/],
    ['a duration', () => monitorOptions({ ...flags, interval: '5 minutes', pid: [1], listen: { host: '127.0.0.1', port: 0 } }), /--interval takes a duration such as 500ms/],
    ['a duration in hex', () => parseDuration('--age', '0x10', 0, 1000), /--age takes a duration such as 500ms, 30s, 10m or 2h \(from 0ms to 1s\), got '0x10'\./],
    ['a cgroup', () => resolveCgroup('no/such/group'), /--cgroup no\/such\/group: no cgroup.procs there/],
  ])('%s', (_what, call, message) => {
    expect(call).toThrow(message);
  });
});

describe('repro monitor on real services', () => {
  it('serves OpenMetrics to Prometheus’ Accept header (# EOF last) and the text format otherwise, and follows a restarted service to its new pid', async () => {
    const tag = tagOf('follow');
    const first = await startService('leak', tag);
    running.push(first);
    const monitor = await startMonitor(['--match', tag, '--listen', '127.0.0.1:0', '--interval', '100ms']);
    running.push(monitor);
    const port = monitor.port as number;

    const om = await scrape(port, true);
    expect(om.status).toBe(200);
    expect(om.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body).toMatch(/^# TYPE repro_monitor_collections counter$/m);
    expect(om.body).toMatch(/^repro_monitor_collections_total \d+$/m);
    expect(sampleValue(om.body, 'repro_process_open_fds', { pid: String(first.pid), command: 'python3', match: tag })).toBeGreaterThan(2);
    expect(sampleValue(om.body, 'repro_process_signal_caught', { pid: String(first.pid), signal: 'SIGHUP' })).toBe(1);
    expect(sampleValue(om.body, 'repro_process_open_fds_by_kind', { pid: String(first.pid), kind: 'pipe' })).toBeGreaterThanOrEqual(2);
    const plain = await scrape(port);
    expect(plain.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.body).not.toContain('# EOF');
    expect(plain.body).toMatch(/^# TYPE repro_monitor_collections_total counter$/m);
    const promtool = findOnPath('promtool');
    if (promtool) execFileSync(promtool, ['check', 'metrics'], { input: plain.body });

    // The leak takes a reload: its pipe count rises by 2 in the next collections.
    const before = sampleValue(plain.body, 'repro_process_open_fds_by_kind', { pid: String(first.pid), kind: 'pipe' }) as number;
    first.child.kill('SIGHUP');
    await eventually('two more pipes', async () => ((sampleValue((await scrape(port)).body, 'repro_process_open_fds_by_kind', { pid: String(first.pid), kind: 'pipe' }) ?? 0) >= before + 2 ? true : undefined));

    // Restarted: the same command line under a new pid is picked up, the old pid's series are gone.
    await stop(first);
    const second = await startService('leak', tag);
    running.push(second);
    const body = await eventually('the new pid', async () => {
      const b = (await scrape(port)).body;
      return sampleValue(b, 'repro_process_open_fds', { pid: String(second.pid) }) === undefined ? undefined : b;
    });
    expect(sampleValue(body, 'repro_process_open_fds', { pid: String(first.pid) })).toBeUndefined();
    expect(sampleValue(body, 'repro_monitor_matched_processes', { match: tag })).toBe(1);
    await stop(monitor, 'SIGTERM');
  });

  it('counts old fds (--age) and fds surviving reloads (--log): the leak’s grow with its reloads, the correct service’s stay 0', async () => {
    // One exporter per service and its log, as in production: a log's reloads are its service's.
    const tag = tagOf('survivors');
    const [leakLog, correctLog] = [join(dir, 'leak.log'), join(dir, 'correct.log')];
    const [leak, correct] = await Promise.all([startService('leak', `${tag}-leak`, leakLog), startService('correct', `${tag}-correct`, correctLog)]);
    running.push(leak, correct);
    const flags = ['--listen', '127.0.0.1:0', '--interval', '100ms', '--age', '300ms', '--reload-pattern', 'signal 1 \\(SIGHUP\\) received'];
    const [leakMonitor, correctMonitor] = await Promise.all([startMonitor(['--match', `${tag}-leak`, '--log', leakLog, ...flags]), startMonitor(['--match', `${tag}-correct`, '--log', correctLog, ...flags])]);
    running.push(leakMonitor, correctMonitor);
    const leakFds = async () => sampleValue((await scrape(leakMonitor.port as number)).body, 'repro_process_open_fds', { pid: String(leak.pid) }) ?? 0;
    const startFds = await eventually('the first collection', async () => (await leakFds()) || undefined);
    for (let k = 1; k <= 4; k++) {
      leak.child.kill('SIGHUP');
      correct.child.kill('SIGHUP');
      // One reload at a time (standard signals coalesce: a HUP on top of another can be one reload), each pipe pair listed before the next
      // reload's line: a pair first listed after a later line is dated to that later reload, and not counted for the one before.
      await eventually('the reload listed', async () => ((await leakFds()) >= startFds + 2 * k && readFileSync(correctLog, 'utf8').split('\n').length > k ? true : undefined));
    }
    // Past the settle time of the last reload.
    const leakBody = await eventually('the reloads settled', async () => {
      const b = (await scrape(leakMonitor.port as number)).body;
      return (sampleValue(b, 'repro_process_reload_survivor_fds', { pid: String(leak.pid) }) ?? 0) >= 6 ? b : undefined;
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${await scrape(leakMonitor.port as number).then((r) => r.body.split('\n').filter((l) => /reload|open_fds\{/.test(l)).join(' | '))} log ${readFileSync(leakLog, 'utf8')}`);
    });
    expect(sampleValue(leakBody, 'repro_reloads_total')).toBe(4);
    // Pipes of reloads 1-3 kept across a later reload (the 4th's pair has no later reload yet): 3 × 2.
    expect(sampleValue(leakBody, 'repro_process_reload_survivor_fds', { pid: String(leak.pid) })).toBe(6);
    await new Promise((r) => setTimeout(r, 1200));
    const body = (await scrape(correctMonitor.port as number)).body;
    expect(sampleValue(body, 'repro_reloads_total')).toBe(4);
    expect(sampleValue(body, 'repro_process_reload_survivor_fds', { pid: String(correct.pid) })).toBe(0);
    // The correct service's start-up fds are old (300 ms), and so is its current pipe pair a second after the last reload.
    expect(sampleValue(body, 'repro_process_old_fds', { pid: String(correct.pid) })).toBe(sampleValue(body, 'repro_process_open_fds', { pid: String(correct.pid) }));
    await Promise.all([stop(leakMonitor, 'SIGTERM'), stop(correctMonitor, 'SIGTERM')]);
  });

  it('SIGTERM: exit 0 at once, the listener closed, the textfile whole and no temp file left', async () => {
    const tag = tagOf('term');
    const service = await startService('correct', tag);
    running.push(service);
    const textfile = join(dir, 'repro.prom');
    const monitor = await startMonitor(['--pid', String(service.pid), '--listen', '127.0.0.1:0', '--textfile', textfile, '--interval', '100ms']);
    running.push(monitor);
    const collections = () => Number(/repro_monitor_collections_total (\d+)/.exec(readFileSync(textfile, 'utf8'))?.[1]);
    await eventually('a collection', async () => (collections() >= 1 ? true : undefined));
    // Replaced by rename, never rewritten in place: a reader that opened it meanwhile (node_exporter) keeps the old file, whole.
    const reader = openSync(textfile, 'r');
    try {
      const seen = Number(/repro_monitor_collections_total (\d+)/.exec(readFileSync(reader, 'utf8'))?.[1]);
      await eventually('a later collection', async () => (collections() > seen ? true : undefined));
      expect(statSync(textfile).ino).not.toBe(fstatSync(reader).ino);
      const old = Buffer.alloc(fstatSync(reader).size);
      readSync(reader, old, 0, old.length, 0);
      expect(old.toString()).toContain(`repro_monitor_collections_total ${seen}\n`);
    } finally {
      closeSync(reader);
    }
    const t0 = performance.now();
    monitor.child.kill('SIGTERM');
    expect(await monitor.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(monitor.stderr()).toContain('SIGTERM received, stopped');
    const refused = await new Promise<string>((resolve) => connect(monitor.port as number, '127.0.0.1').once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')).once('connect', function (this: import('node:net').Socket) { this.destroy(); resolve('connected'); }));
    expect(refused).toBe('ECONNREFUSED');
    const text = readFileSync(textfile, 'utf8');
    expect(text).toMatch(new RegExp(`^repro_process_open_fds\\{pid="${service.pid}",command="python3",match="pid"\\} \\d+$`, 'm'));
    expect(text.endsWith('\n')).toBe(true);
    const promtool = findOnPath('promtool');
    if (promtool) execFileSync(promtool, ['check', 'metrics'], { input: text });
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
