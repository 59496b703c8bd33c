/**
 * Bench section "watch" (issue 11), printed, not asserted:
 * 1. 20 reloads of a service whose reload takes under 1 ms: `repro watch`
 *    (attached with --pid, and starting the program itself) against a shell loop
 *    doing `kill -HUP PID; sleep 0.1; lsof -p PID | wc -l` 20 times on the same
 *    running service, in turns, and the ratio;
 * 2. the per-reload cost split into signal delivery, completion wait and
 *    sampling, from the run documents (`deliveredMs`, `settleMs`, `elapsedMs`);
 * 3. a tree of 200 processes holding 19 000 fds (scripts/bench/hold-fds.py):
 *    the cost of one completion poll and of one full sample in this process,
 *    and the whole CLI's peak RSS and per-reload figures when it watches the tree.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readThreads } from '../../src/harness/tree/completion.js';
import { TreeSampler } from '../../src/harness/tree/sampler.js';
import { countTreeFds, TreeWalker } from '../../src/harness/tree/tree.js';
import type { RunDocument } from '../../src/model/run-document.js';
import { percentile } from '../../src/model/stats.js';

const BIN = fileURLToPath(new URL('../../bin/repro.js', import.meta.url));
const FAST = fileURLToPath(new URL('./reloads-at-once.py', import.meta.url));
const HOLDER = fileURLToPath(new URL('./hold-fds.py', import.meta.url));
const RELOADS = 20;
const ROUNDS = 3;

const median = (v: number[]) => percentile(v, 50) as number;
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
const s = (n: number) => `${(n / 1000).toFixed(2)} s`;

/** Runs the CLI, returns its wall time, its run document and its peak RSS (VmHWM, read while it runs). */
async function reproRun(args: string[]): Promise<{ wallMs: number; run: RunDocument; peakRssKb: number }> {
  const t0 = performance.now();
  const cli = execa(BIN, ['watch', '--json', ...args], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' } });
  let peakRssKb = 0;
  const hwm = () => {
    try {
      peakRssKb = Math.max(peakRssKb, Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${cli.pid}/status`, 'utf8'))?.[1] ?? 0));
    } catch {
      // exited
    }
  };
  const timer = setInterval(hwm, 20);
  const result = await cli;
  clearInterval(timer);
  const wallMs = performance.now() - t0;
  if (result.exitCode !== 0) throw new Error(`repro watch ${args.join(' ')}: exit ${result.exitCode}: ${result.stderr}`);
  return { wallMs, run: JSON.parse(result.stdout) as RunDocument, peakRssKb };
}

/** Per reload (all but the last, whose interval holds the final drain): delivery, completion wait after it, and the rest (send + full sample). */
function split(run: RunDocument): { delivery: number[]; completion: number[]; sampling: number[]; drain: number; reloadPhaseMs: number } {
  const out = { delivery: [] as number[], completion: [] as number[], sampling: [] as number[] };
  const samples = run.samples;
  for (let k = 1; k < samples.length - 1; k++) {
    const sample = samples[k] as RunDocument['samples'][number];
    const interval = sample.elapsedMs - (samples[k - 1] as RunDocument['samples'][number]).elapsedMs;
    out.delivery.push(sample.deliveredMs ?? 0);
    out.completion.push((sample.settleMs ?? 0) - (sample.deliveredMs ?? 0));
    out.sampling.push(interval - (sample.settleMs ?? 0));
  }
  const last = samples.at(-1) as RunDocument['samples'][number];
  const beforeLast = samples.at(-2) as RunDocument['samples'][number];
  const lastSampling = median(out.sampling);
  return { ...out, drain: last.elapsedMs - beforeLast.elapsedMs - (last.settleMs ?? 0) - lastSampling, reloadPhaseMs: last.elapsedMs - (samples[0] as RunDocument['samples'][number]).elapsedMs };
}

/** Waits until `pid` catches SIGHUP. */
async function handlerOf(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const cgt = /^SigCgt:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
    if ((BigInt(`0x${cgt}`) & 1n) === 1n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} never caught SIGHUP`);
}

async function versusShellLoop(): Promise<void> {
  console.log(`### ${RELOADS} reloads of a service whose reload takes under 1 ms (python3 scripts/bench/reloads-at-once.py)\n`);
  const service = execa('python3', [FAST], { reject: false, stdin: 'ignore' });
  const walls = { shell: [] as number[], attached: [] as number[], started: [] as number[], attachedReloads: [] as number[], startedUp: [] as number[] };
  const runs: RunDocument[] = [];
  try {
    const pid = service.pid as number;
    await handlerOf(pid);
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      execFileSync('bash', ['-c', `for i in $(seq ${RELOADS}); do kill -HUP "$0"; sleep 0.1; lsof -p "$0" | wc -l >/dev/null; done`, String(pid)], { stdio: 'ignore' });
      walls.shell.push(performance.now() - t0);
      const attached = await reproRun(['--reloads', String(RELOADS), '--pid', String(pid)]);
      walls.attached.push(attached.wallMs);
      walls.attachedReloads.push(split(attached.run).reloadPhaseMs);
      runs.push(attached.run);
      const started = await reproRun(['--reloads', String(RELOADS), '--', 'python3', FAST]);
      walls.started.push(started.wallMs);
      walls.startedUp.push((started.run.samples[0] as RunDocument['samples'][number]).elapsedMs);
      runs.push(started.run);
    }
  } finally {
    service.kill('SIGKILL');
    await service;
  }
  const shell = median(walls.shell);
  const attached = median(walls.attached);
  const started = median(walls.started);
  console.log(`shell loop (kill -HUP; sleep 0.1; lsof -p PID | wc -l) × ${RELOADS}: ${s(shell)}  (median of ${ROUNDS}, taken in turns with repro)`);
  console.log(`repro watch --pid PID --reloads ${RELOADS} (whole CLI, node start-up included): ${s(attached)}: ${(attached / shell).toFixed(2)} of the shell loop's time (target ≤ 0.33); its ${RELOADS} reloads alone ${s(median(walls.attachedReloads))}: ${(median(walls.attachedReloads) / shell).toFixed(2)}`);
  console.log(`repro watch --reloads ${RELOADS} -- python3 … (starts the service; up after ${s(median(walls.startedUp))}): ${s(started)}: ${(started / shell).toFixed(2)} of the shell loop's time`);
  const parts = runs.map(split);
  const all = (key: 'delivery' | 'completion' | 'sampling') => parts.flatMap((p) => p[key]);
  const p = (v: number[]) => `p50 ${ms(percentile(v, 50) as number)}, p99 ${ms(percentile(v, 99) as number)}`;
  const total = parts.flatMap((x) => x.delivery.map((d, i) => d + (x.completion[i] as number) + (x.sampling[i] as number)));
  console.log(`per reload over ${total.length} reloads (${ROUNDS * 2} runs): ${p(total)}; signal delivery ${p(all('delivery'))}; completion wait after delivery ${p(all('completion'))}; send + full sample ${p(all('sampling'))}; final drain after the last reload p50 ${ms(median(parts.map((x) => x.drain)))}`);
}

async function bigTree(): Promise<void> {
  const procs = 200;
  // 18 200 held, plus each process's stdin, stdout, stderr and temp file: 19 000 in all.
  const held = 18_200;
  console.log(`\n### a tree of ${procs} processes holding about 19 000 fds (python3 scripts/bench/hold-fds.py ${held} ${procs})\n`);
  const tree = execa('python3', [HOLDER, String(held), String(procs)], { stdin: 'pipe', reject: false });
  try {
    await new Promise<void>((resolve) => tree.stdout?.once('data', () => resolve()));
    const root = tree.pid as number;
    const walker = new TreeWalker(root, {});
    const counted = countTreeFds(root, {}, walker);
    const pids = counted.processes.map((p) => p.pid);
    const time = (f: () => unknown, n: number) => {
      const costs: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        f();
        costs.push(performance.now() - t0);
      }
      return median(costs);
    };
    const walk = time(() => new TreeWalker(root, {}).walk(), 5);
    const count = time(() => countTreeFds(root, {}, walker), 10);
    const threads = time(() => readThreads(pids), 10);
    const sampler = new TreeSampler(root, {});
    const rssBefore = process.memoryUsage().rss;
    const sample = time(() => sampler.sample(0), 5);
    console.log(
      `${counted.processes.length} processes, ${counted.totalFds} fds: one completion poll (tree walk + fd counts + every thread's stat and syscall) ${ms(count + threads)} (counts ${ms(count)}, threads ${ms(threads)}; a full tree rescan ${ms(walk)}); one full sample (every fd listed, classified and identified) ${ms(sample)}; this process grew ${((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toFixed(0)} MB over 5 samples`,
    );
    const { run, peakRssKb, wallMs } = await reproRun(['--reloads', '5', '--pid', String(root)]);
    const parts = split(run);
    const per = parts.delivery.map((d, i) => d + (parts.completion[i] as number) + (parts.sampling[i] as number));
    console.log(
      `repro watch --pid (the tree's root) --reloads 5: ${s(wallMs)} wall, peak RSS ${(peakRssKb / 1024).toFixed(0)} MB; per reload p50 ${ms(median(per))} (delivery ${ms(median(parts.delivery))}, completion wait ${ms(median(parts.completion))}, send + full sample ${ms(median(parts.sampling))}); ${run.samples.at(-1)?.processCount} processes, ${run.samples.at(-1)?.fds} fds at the last sample`,
    );
  } finally {
    tree.stdin?.end();
    await tree;
  }
}

/** The watch section of `npm run bench`. */
export async function watchBench(): Promise<void> {
  console.log('## repro watch: against a shell loop, the cost of a reload, and a big tree\n');
  await versusShellLoop();
  await bigTree();
}
