/**
 * npm run bench: figures and ratios against the alternatives, printed, not asserted.
 * Section "reload": signal round trip, `repro compare` wall time, and a plain
 * shell loop doing the same 500 reloads. Section "probe": the fd probe at 1k, 5k and
 * 19k fds against a C floor, lsof and lsfd. Section "watch" (scripts/bench/watch.ts): repro watch
 * against a shell loop, the cost of a reload split, a tree of 200 processes with 19 000 fds. Section
 * "drain": the load generator against ab, its RSS over 100 000 requests, the second-signal latency.
 * Section "attribute": a reload's cost with and without --attribute, the trace parser's memory.
 * Section "start-up" (scripts/bench/start-up.ts): each one-shot command against `node -e 0`, the probe
 * against lsof and a shell count. Section "watch-url" (scripts/bench/watch-url.ts): the load of `watch --url` through nginx
 * reloads and its cost per reload. Section "monitor" (scripts/bench/monitor.ts): a collection, a scrape and the exporter's RSS
 * at 1, 50 and 200 processes against a shell loop. `--only start-up|reload|probe|watch|watch-url|attribute|drain|monitor` picks one section.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ProcfsProbe } from '../src/fdprobe/procfs.js';
import { fileURLToPath } from 'node:url';
import { runPattern, SCENARIO_DEFAULTS, type ScenarioOptions } from '../src/cli/commands/scenario.js';
import { drainBench } from './bench/drain.js';
import { launchChild } from '../src/harness/launch.js';
import { percentile } from '../src/model/stats.js';
import { nodeChild } from '../src/runtimes/index.js';
import { attributeBench } from './bench/attribute.js';
import { watchBench } from './bench/watch.js';
import { startUpBench } from './bench/start-up.js';
import { watchUrlBench } from './bench/watch-url.js';
import { monitorBench } from './bench/monitor.js';
import { timeInterleaved } from './bench/timing.js';

const BIN = fileURLToPath(new URL('../bin/repro.js', import.meta.url));
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

// Generous timeouts: a loaded machine must not turn a slow ack into a failed run.
const options: ScenarioOptions = { ...SCENARIO_DEFAULTS, ackTimeout: 5000, readyTimeout: 15_000 };

const median = (v: number[]) => percentile(v, 50) as number;
const f = (n: number, d = 3) => n.toFixed(d);
/** A ratio that stays readable far below 1: 1.13×, or 1/780× (780 times less). */
const ratio = (r: number) => (r >= 0.1 ? `${r.toFixed(2)}×` : `1/${Math.round(1 / r)}×`);

async function reloadBench(): Promise<void> {
  console.log('## reload round trip and compare wall time (correct child, pipe channel, ulimit 64)\n');
  const latencies: number[] = [];
  const runWalls: number[] = [];
  for (let i = 0; i < 5; i++) {
    const run = await runPattern('correct', options);
    runWalls.push(run.end.wallMs);
    for (const s of run.samples) if (s.roundTripMs !== undefined) latencies.push(s.roundTripMs);
  }
  console.log(`round trip (kill → ack line), ${latencies.length} reloads: p50 ${f(percentile(latencies, 50) as number)} ms, p99 ${f(percentile(latencies, 99) as number)} ms  (target p50 ≤ 0.3 ms)`);
  console.log(`500 acknowledged reloads + full probe each, in-process: median ${f(median(runWalls) / 1000)} s over 5 runs`);

  const compareWalls: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    execFileSync(BIN, ['compare', '--json'], { stdio: ['ignore', 'ignore', 'inherit'] });
    compareWalls.push(performance.now() - t0);
  }
  const compareS = median(compareWalls) / 1000;
  console.log(`repro compare (defaults, whole CLI process): median ${f(compareS)} s over 5 runs  (target ≤ 2 s)`);

  // The hand-made alternative: kill -HUP, a 10 ms settle, count /proc/PID/fd, 500 times.
  const child = launchChild({ command: nodeChild('scenarios/sighup-listener/node/correct.js', ['--channel', 'pipe']), ulimit: 64 });
  try {
    await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
    const t0 = performance.now();
    execFileSync('bash', ['-c', 'for i in $(seq 500); do kill -HUP "$0"; sleep 0.01; ls /proc/"$0"/fd | wc -l >/dev/null; done', String(child.pid)]);
    const shellS = (performance.now() - t0) / 1000;
    console.log(`plain shell loop, same 500 reloads (kill -HUP; sleep 0.01; ls /proc/PID/fd | wc -l): ${f(shellS)} s`);
    console.log(`ratio: the shell loop takes ${f(shellS / (median(runWalls) / 1000), 1)}× repro's in-process run and ${f(shellS / compareS, 1)}× a whole repro compare (both children, chart, verdict)`);
  } finally {
    await child.stop(2000);
  }
}


function perSampleUs(f: () => unknown, budgetMs: number): number {
  f();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs || n < 3) {
    f();
    n++;
  }
  return ((performance.now() - t0) / n) * 1000;
}

async function probeBench(): Promise<void> {
  console.log('## fd probe: per-sample cost and one-shot wall time against a C floor, lsof and lsfd\n');
  const dir = mkdtempSync(join(tmpdir(), 'repro-bench-'));
  const floor = join(dir, 'fd-floor');
  execFileSync('gcc', ['-O2', '-o', floor, fileURLToPath(new URL('./bench/fd-floor.c', import.meta.url))]);
  const holder = fileURLToPath(new URL('./bench/hold-fds.py', import.meta.url));
  const probe = new ProcfsProbe();
  const header = ['fds', 'C getdents', 'repro count', 'ratio', 'C +readlink', 'repro full', 'ratio', 'lsof -p', 'lsfd -p', 'lsof/full', 'probe 1-shot', 'lsof 1-shot'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  const notes: string[] = [];
  try {
    for (const n of [1000, 5000, 19_000]) {
      const child = execa('python3', [holder, String(n)], { stdin: 'pipe', reject: false });
      try {
        await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
        const pid = child.pid as number;
        const c = (mode: string, iterations: number) => Number(execFileSync(floor, [String(pid), mode, String(iterations)], { encoding: 'utf8' }).split(' ')[0]);
        const iterations = n >= 19_000 ? 50 : 300;
        const cCount = c('count', iterations);
        const cStat = c('stat', 2000);
        const cFull = c('full', iterations);
        const cWalk = c('walk', iterations);
        const count = perSampleUs(() => probe.countSync(pid), 300);
        const readdirCount = perSampleUs(() => readdirSync(`/proc/${pid}/fd`).length, 300);
        const full = perSampleUs(() => probe.listSync(pid), 600);
        const runs = n >= 19_000 ? 7 : 21;
        const [lsofMs, lsfdMs, probeOneShot] = timeInterleaved(
          [
            ['lsof', ['-n', '-P', '-w', '-p', String(pid)]],
            ['lsfd', ['-p', String(pid)]],
            [BIN, ['probe', String(pid), '--json']],
          ],
          runs,
        ) as [number, number, number];
        const lsof = lsofMs * 1000;
        const lsfd = lsfdMs * 1000;
        const lsofOneShot = lsofMs;
        const total = probe.countSync(pid);
        const ms = (us: number) => (us >= 1000 ? `${f(us / 1000, 1)} ms` : `${f(us, 1)} µs`);
        console.log(
          `| ${total} | ${ms(cCount)} | ${ms(count)} | ${ratio(count / cCount)} | ${ms(cFull)} | ${ms(full)} | ${ratio(full / cFull)} | ${ms(lsof)} | ${ms(lsfd)} | ${f(lsof / full, 1)}× | ${f(probeOneShot, 0)} ms | ${f(lsofOneShot, 0)} ms |`,
        );
        notes.push(
          `${total} fds: count by stat() in C ${ms(cStat)} (repro's count ${ratio(count / cStat)} that); the same fd-number walk in C ${ms(cWalk)} (repro full ${ratio(full / cWalk)} that); Node readdir count ${ms(readdirCount)} (${ratio(readdirCount / cCount)} the C getdents loop)`,
        );
      } finally {
        child.stdin?.end();
        await child;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('');
  for (const note of notes) console.log(`- ${note}`);
  console.log('- repro count = one stat() of /proc/PID/fd (Linux ≥ 6.2 reports the fd count as its size); full = the fd-number walk (readlinkat through koffi from a probe’s second listing on, readlinkSync on its first, on 0, 1, 2… until the stat count is found; readdir only past a gap) + classify every fd');
  console.log('- lsof/full: how many of repro\'s full samples fit in one lsof call; 1-shot = whole process wall time of repro run as a command (node start-up included), median of 21 runs (7 at 19k) taken in turns with lsof and lsfd');
}

const sections: Record<string, () => Promise<void>> = { 'start-up': startUpBench, reload: reloadBench, probe: probeBench, attribute: attributeBench, watch: watchBench, 'watch-url': watchUrlBench, drain: drainBench, monitor: monitorBench };
for (const [name, bench] of Object.entries(sections)) {
  if (only && only !== name) continue;
  await bench();
  console.log();
}
