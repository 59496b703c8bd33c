/**
 * Bench section "monitor" (issue 25), printed, not asserted: what one collection
 * of `repro monitor` costs (its self-metric repro_monitor_scrape_duration_seconds:
 * discovery, every process's fd listing by kind, limits, status, the families),
 * what a scrape of /metrics takes over HTTP, and the exporter's RSS, for 1, 50
 * and 200 processes holding 100 fds each (scripts/bench/hold-fds.py); against a
 * shell loop counting the same fds (`ls /proc/PID/fd | wc -l` per process) as the floor.
 */
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { percentile } from '../../src/model/stats.js';

const BIN = fileURLToPath(new URL('../../bin/repro.js', import.meta.url));
const HOLD = fileURLToPath(new URL('./hold-fds.py', import.meta.url));
const FDS_EACH = 100;
const SCRAPES = 20;

const median = (v: number[]) => percentile(v, 50) as number;
const p95 = (v: number[]) => percentile(v, 95) as number;
const ms = (n: number) => `${n.toFixed(1)} ms`;

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
}

async function get(port: number): Promise<{ body: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0' } });
  const body = await res.text();
  return { body, ms: performance.now() - t0 };
}

async function benchProcesses(count: number): Promise<void> {
  const holder = spawn('python3', [HOLD, String(count * FDS_EACH), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await once(holder.stdout, 'data');
  const pids = [holder.pid as number, ...childrenOf(holder.pid as number)];
  const monitor = spawn(process.execPath, [BIN, 'monitor', ...pids.flatMap((p) => ['--pid', String(p)]), '--listen', '127.0.0.1:0', '--interval', '250ms'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let err = '';
    monitor.stderr.on('data', (d: Buffer) => (err += d.toString()));
    while (!/127\.0\.0\.1:(\d+)/.test(err)) await new Promise((r) => setTimeout(r, 20));
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
    const collections: number[] = [];
    const gets: number[] = [];
    let fds = 0;
    for (let i = 0; i < SCRAPES; i++) {
      await new Promise((r) => setTimeout(r, 260));
      const { body, ms: getMs } = await get(port);
      gets.push(getMs);
      collections.push(Number(/^repro_monitor_scrape_duration_seconds ([\d.e-]+)$/m.exec(body)?.[1]) * 1000);
      fds = [...body.matchAll(/^repro_process_open_fds\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    }
    const rss = rssMb(monitor.pid as number, 'VmRSS');
    const hwm = rssMb(monitor.pid as number, 'VmHWM');
    const t0 = performance.now();
    execFileSync('bash', ['-c', 'for p in "$@"; do ls /proc/$p/fd | wc -l >/dev/null; done', 'floor', ...pids.map(String)]);
    const shellMs = performance.now() - t0;
    console.log(
      `${String(pids.length).padStart(3)} processes, ${fds} fds: collection p50 ${ms(median(collections))} p95 ${ms(p95(collections))} (target < 100 ms at 200); GET /metrics p50 ${ms(median(gets))}; exporter RSS ${rss.toFixed(0)} MB (peak ${hwm.toFixed(0)} MB); shell loop (counts only) ${ms(shellMs)}, ${(shellMs / median(collections)).toFixed(1)}× a collection`,
    );
  } finally {
    monitor.kill('SIGTERM');
    await once(monitor, 'exit');
    holder.stdin.end();
    await once(holder, 'exit');
  }
}

export async function monitorBench(): Promise<void> {
  console.log(`## monitor: one collection, a scrape and the exporter's RSS at 1, 50 and 200 processes (${FDS_EACH} fds each, ${SCRAPES} scrapes every 260 ms)\n`);
  for (const count of [1, 50, 200]) await benchProcesses(count);
  console.log('');
}
