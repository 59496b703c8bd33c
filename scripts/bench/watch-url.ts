/**
 * Bench section "watch-url" (issue 21), printed, not asserted: what the load of
 * `repro watch --url` reaches and what it costs a reload. nginx (Debian's, a new
 * worker generation per SIGHUP) is watched for 10 reloads without and with
 * --url, in turns, 3 times each; from the run documents: requests per second
 * through the reloads, the per-reload interval (signal to signal) and the time
 * from a signal to its reload being known finished (settle). Needs nginx on PATH.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RunDocument } from '../../src/model/run-document.js';
import { percentile } from '../../src/model/stats.js';
import { findOnPath } from '../../src/util/find-executable.js';
import { freeLoopbackPort } from '../../src/harness/drivers/reload-under-load-run.js';

const BIN = fileURLToPath(new URL('../../bin/repro.js', import.meta.url));
const RELOADS = 10;
const ROUNDS = 3;

const median = (v: number[]) => percentile(v, 50) as number;
const ms = (n: number) => `${n.toFixed(1)} ms`;

function nginxConfig(dir: string, port: number): string {
  mkdirSync(join(dir, 'html'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'html/index.html'), 'hello\n');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log warn; worker_processes 1;
events { worker_connections 512; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi; server { listen 127.0.0.1:${port}; root ${dir}/html; } }
`,
  );
  return conf;
}

async function watchRun(args: string[]): Promise<RunDocument> {
  const result = await execa(process.execPath, [BIN, 'watch', '--json', '--reloads', String(RELOADS), ...args], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' } });
  if (result.exitCode !== 0) throw new Error(`repro watch ${args.join(' ')}: exit ${result.exitCode}: ${result.stderr}`);
  return JSON.parse(result.stdout) as RunDocument;
}

/** Signal-to-signal intervals of the reloads (the last one holds the final drain, so it is left out) and each reload's settle. */
function perReload(run: RunDocument): { intervals: number[]; settles: number[] } {
  const intervals: number[] = [];
  const settles: number[] = [];
  for (let k = 1; k < run.samples.length - 1; k++) {
    const sample = run.samples[k] as RunDocument['samples'][number];
    intervals.push(sample.elapsedMs - (run.samples[k - 1] as RunDocument['samples'][number]).elapsedMs);
    if (sample.settleMs !== undefined) settles.push(sample.settleMs);
  }
  return { intervals, settles };
}

export async function watchUrlBench(): Promise<void> {
  console.log(`## watch --url: the load through ${RELOADS} nginx reloads, and its cost per reload (${ROUNDS} runs each, in turns)\n`);
  if (!findOnPath('nginx')) {
    console.log('nginx is not on PATH (Debian: apt-get install nginx-light): section skipped\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'repro-bench-url-'));
  // nginx's workers run as another user: a 0700 directory would make every answer a 403, and readiness wants a 200.
  chmodSync(dir, 0o755);
  try {
    const plain = { intervals: [] as number[], settles: [] as number[] };
    const loaded = { intervals: [] as number[], settles: [] as number[] };
    const rates: number[] = [];
    let requests = 0;
    let lost = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const port = await freeLoopbackPort();
      const conf = nginxConfig(dir, port);
      const command = ['--', 'nginx', '-p', dir, '-c', conf];
      const without = perReload(await watchRun(command));
      plain.intervals.push(...without.intervals);
      plain.settles.push(...without.settles);
      const run = await watchRun(['--url', `http://127.0.0.1:${port}/`, ...command]);
      const withLoad = perReload(run);
      loaded.intervals.push(...withLoad.intervals);
      loaded.settles.push(...withLoad.settles);
      const load = run.reloadLoad;
      const windows = load?.windows ?? [];
      const first = windows[0]?.startMs;
      if (load && first !== undefined && load.stoppedMs !== undefined && load.stoppedMs > first) rates.push((load.total / (load.stoppedMs - first)) * 1000);
      requests += load?.total ?? 0;
      lost += load?.lost ?? 0;
    }
    console.log('| per reload (median) | without --url | with --url (8 clients) | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| signal → signal | ${ms(median(plain.intervals))} | ${ms(median(loaded.intervals))} | ${(median(loaded.intervals) / median(plain.intervals)).toFixed(2)}× |`);
    console.log(`| signal → reload known finished | ${ms(median(plain.settles))} | ${ms(median(loaded.settles))} | ${(median(loaded.settles) / median(plain.settles)).toFixed(2)}× |`);
    console.log('');
    console.log(`- the load reached ${rates.length ? median(rates).toFixed(0) : '—'} requests/s through the reloads (median of ${rates.length} runs; ${requests} requests, ${lost} lost)`);
    console.log('- without --url a reload is finished when every thread is back where it idled and the fd floor held; with it, when a new worker generation answers (threads are never idle under load), then a request sent after it was answered');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
