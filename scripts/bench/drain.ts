/**
 * Bench for graceful-drain (issue 12), printed, not asserted. `npm run bench` runs
 * `drainBench()` (section `drain`, about 40 s): the generator against `ab`, the harness RSS
 * over 100 000 requests, the second-signal latency. Run alone it does all of this, at full size:
 * 1. `--runs` (20) seeded runs of each child (`--runtime node|rust|python`) under load with ≥ 4 000 requests:
 *    how many pass their verdict (correct: 0 lost; broken: ≥ 1 lost, every loss with its cause;
 *    drains-forever: killed after the grace period), losses per run, causes;
 * 2. the same number of correct runs with a second signal 100 ms after the first: time to exit;
 * 3. the load generator's own ceiling on loopback against `ab` (apache2-utils) on the same
 *    server, keep-alive and one connection per request, and the ratio;
 * 4. the harness's peak RSS after 10 000 and after 100 000 requests.
 * `--only verdicts|second|throughput|rss` picks one section, `--variants a,b` some children, `--runs N` the count.
 * Run: node --import tsx scripts/bench/drain.ts [--runtime rust|python]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type LoadAndSignalPlan, runLoadAndSignal } from '../../src/harness/drivers/load-and-signal.js';
import { launchChild } from '../../src/harness/launch.js';
import { LoadGenerator } from '../../src/harness/load/generator.js';
import { type ClientKind, Ledger } from '../../src/harness/load/ledger.js';
import { drainExpectation } from '../../src/kinds/drain/expectation.js';
import { judgeDrain } from '../../src/kinds/drain/judge.js';
import { type DrainExpectation as LedgerRules, killedSentence, lossSentence } from '../../src/model/drain.js';

/** A role's ledger rules with the line that says what it shows. */
type DrainExpectation = LedgerRules & { shows: string };

/** A load-and-signal run judged by the drain kind's judge (the one the CLI uses). */
const judged = (run: Awaited<ReturnType<typeof runLoadAndSignal>>, { shows, ...rules }: DrainExpectation) => judgeDrain({ drain: run, end: { detail: run.ended.detail } }, drainExpectation(shows, rules));
import { ensureRustBinaries, GRACEFUL_DRAIN_PROJECT, rustBuilt } from '../../src/runtimes/cargo.js';
import { nodeChild, pythonChild } from '../../src/runtimes/index.js';
import { findOnPath } from '../../src/util/find-executable.js';

const arg = (name: string) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : undefined);
const RUNTIME = arg('runtime') ?? 'node';
const LAG_MS = 300;
const GRACE_MS = 2000;
/**
 * The child keeps its listener open this much longer than the load balancer
 * keeps routing (as a preStop sleep must exceed endpoint propagation): with no
 * margin, connections sent in the last milliseconds of the lag can still sit
 * in the accept queue when the listener closes if the machine starves the
 * server's event loop (seen: 3 of 20 runs, 1–21 requests reset at the close).
 */
const MARGIN_MS = 100;

const EXPECT: Record<string, DrainExpectation> = {
  correct: { shows: 'no request lost', losses: 'none', minRequests: 4000, exit: 'clean' },
  'exit-at-once': { shows: 'in-flight cut, lag refused', losses: 'some', minRequests: 4000, exit: 'clean' },
  'keeps-accepting': { shows: 'let in, never answered', losses: 'some', minRequests: 4000, exit: 'clean' },
  'drains-forever': { shows: 'killed after the grace period', losses: 'some', minRequests: 4000, exit: 'killed' },
};

let rust: Record<string, string> | undefined;

/** The child's argv in the chosen runtime (the Rust children are built on first use). */
async function child(variant: string, args: readonly string[], runtime = RUNTIME): Promise<string[]> {
  if (runtime === 'python') return pythonChild('src/scenarios/graceful-drain/python/server.py', [variant, ...args]);
  if (runtime !== 'rust') return nodeChild(`scenarios/graceful-drain/node/${variant}.js`, args);
  rust ??= await ensureRustBinaries(GRACEFUL_DRAIN_PROJECT, { onBuild: (m) => console.error(m) });
  return [rust[variant.replaceAll('-', '_')] as string, ...args];
}

async function plan(variant: string, seed: number, over: Partial<LoadAndSignalPlan> = {}): Promise<LoadAndSignalPlan> {
  return {
    command: await child(variant, ['--lag', String(LAG_MS + MARGIN_MS), '--grace', String(GRACE_MS - 500)]),
    readyTimeoutMs: 15_000,
    signal: 'SIGTERM',
    warmupMs: 9000,
    signalJitterMs: 500,
    seed,
    lagMs: LAG_MS,
    graceMs: GRACE_MS,
    load: { concurrency: 40, maxRequests: 100_000, workMs: [0, 30], longMs: 600, thinkMs: 10, requestTimeoutMs: 5000, readinessEveryMs: 10, afterExitProbes: 3 },
    ...over,
  };
}

const pct = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] as number;

async function verdicts(runs: number): Promise<void> {
  console.log(`## ${runs} seeded runs per ${RUNTIME} child (lag ${LAG_MS} ms, grace ${GRACE_MS} ms, 40 clients, signal at 9.0–9.5 s)\n`);
  for (const variant of arg('variants')?.split(',') ?? Object.keys(EXPECT)) {
    const expect = EXPECT[variant] as DrainExpectation;
    let passed = 0;
    const totals: number[] = [];
    const losses: number[] = [];
    const causes = new Map<string, number>();
    const notes = new Set<string>();
    for (let seed = 1; seed <= runs; seed++) {
      const run = await runLoadAndSignal(await plan(variant, seed));
      const verdict = judged(run, expect);
      if (verdict.pass) passed += 1;
      else console.log(`  seed ${seed}: FAIL: ${verdict.checks[0]?.text ?? ''}`);
      totals.push(run.ledger.total);
      losses.push(run.ledger.lost);
      for (const c of run.ledger.causes) {
        const key = lossSentence({ ...c, count: 0 }).replace(/^0 × /, '');
        causes.set(key, (causes.get(key) ?? 0) + c.count);
      }
      const killed = killedSentence(run.ledger);
      if (killed) notes.add(killed.replace(/\d+ connections/, 'N connections'));
    }
    console.log(`${variant}: ${passed} of ${runs} runs pass; requests per run ${Math.min(...totals)}–${Math.max(...totals)}; lost per run ${Math.min(...losses)}–${Math.max(...losses)} (total ${losses.reduce((a, b) => a + b, 0)})${notes.size ? `; ${[...notes].join(', ')}` : ''}`);
    for (const [cause, n] of [...causes].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`    ${n} × ${cause}`);
  }
  console.log('');
}

/** Runs of the correct child with a second signal 100 ms into a 1.5 s lag; `load` shrinks the load (the npm run bench section). */
async function second(runs: number, runtime = RUNTIME, load?: Partial<LoadAndSignalPlan['load']>): Promise<void> {
  const times: number[] = [];
  let ok = 0;
  for (let seed = 1; seed <= runs; seed++) {
    const base = await plan('correct', seed, { command: await child('correct', ['--lag', '1500', '--grace', '5000'], runtime), warmupMs: 500, lagMs: 1500, graceMs: 6000, secondSignal: { signal: seed % 2 ? 'SIGINT' : 'SIGTERM', afterMs: 100 } });
    const run = await runLoadAndSignal({ ...base, load: { ...base.load, ...load } });
    const ms = run.ledger.timings.secondSignalToExitMs;
    if (ms !== undefined) times.push(ms);
    if (judged(run, { shows: 'forced exit', losses: 'some', minRequests: 0, exit: 'any', secondSignalWithinMs: 250 }).checks.find((c) => c.id === 'drain:second-signal')?.ok) ok += 1;
  }
  console.log(`${runtime} correct child, second signal (SIGINT/SIGTERM) 100 ms into a 1.5 s lag: ${ok} of ${runs} runs gone within 250 ms of it; second signal → exit seen by the harness: p50 ${pct(times, 50)} ms, max ${Math.max(...times)} ms`);
}

async function startCorrect() {
  const server = launchChild({ command: await child('correct', [], 'node') });
  const ready = await server.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
  return { child: server, port: (ready.event as unknown as { port: number }).port };
}

async function generatorRate(port: number, kind: 'keepalive' | 'fresh', requests: number, concurrency: number): Promise<{ rate: number; lost: number }> {
  const ledger = new Ledger(performance.now(), 0, 0);
  const gen = new LoadGenerator(
    { host: '127.0.0.1', port, concurrency, maxRequests: requests, maxDurationMs: 120_000, seed: 1, lagMs: 0, workMs: [0, 0], longMs: 0, thinkMs: 0, requestTimeoutMs: 5000, kinds: [kind], readinessEveryMs: 0, afterExitProbes: 0 },
    ledger,
    () => 'running',
  );
  const t0 = performance.now();
  gen.start();
  await gen.finish();
  return { rate: ledger.total / ((performance.now() - t0) / 1000), lost: ledger.lost };
}

function abRate(port: number, keepAlive: boolean, requests: number, concurrency: number): number {
  const out = execFileSync('ab', [...(keepAlive ? ['-k'] : []), '-q', '-n', String(requests), '-c', String(concurrency), `http://127.0.0.1:${port}/work?ms=0`], { encoding: 'utf8' });
  return Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1]);
}

async function throughput(requests = { keepalive: 20_000, fresh: 20_000 }): Promise<void> {
  console.log(`the generator's ceiling against ab (apache2-utils), same Node correct child, /work?ms=0, 30 clients, taken in turns, median of 3:`);
  if (!findOnPath('ab')) {
    console.log('ab not found: apt-get install apache2-utils');
    return;
  }
  const { child, port } = await startCorrect();
  try {
    for (const [kind, keepAlive] of [['keepalive', true], ['fresh', false]] as const) {
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 0; i < 3; i++) {
        ours.push((await generatorRate(port, kind, requests[kind], 30)).rate);
        theirs.push(abRate(port, keepAlive, requests[kind], 30));
      }
      const o = pct(ours, 50);
      const t = pct(theirs, 50);
      console.log(`  ${keepAlive ? 'keep-alive    ' : 'new connection'}  ${requests[kind]} requests: repro ${o.toFixed(0)} req/s, ab ${t.toFixed(0)} req/s, ratio ${(o / t).toFixed(2)}×`);
    }
  } finally {
    await child.stop(1000);
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/**
 * One generator run of `requests` under the default client mix against the Node correct child
 * (no signal): the harness's RSS when the ledger passes 10 000 requests and at the end, its peak,
 * and the size of the ledger + timeline as JSON (bounded whatever the count).
 */
async function rss(requests = 100_000, kinds?: readonly ClientKind[]): Promise<void> {
  const { child, port } = await startCorrect();
  try {
    const ledger = new Ledger(performance.now(), 0, 0);
    const gen = new LoadGenerator({ host: '127.0.0.1', port, concurrency: 40, maxRequests: requests, maxDurationMs: 600_000, seed: 1, lagMs: 0, workMs: [0, 2], longMs: 50, thinkMs: 0, requestTimeoutMs: 5000, readinessEveryMs: 10, afterExitProbes: 0, kinds }, ledger, () => 'running');
    const before = process.memoryUsage().rss;
    let at10k: number | undefined;
    const sampler = setInterval(() => {
      if (at10k === undefined && ledger.total >= 10_000) at10k = process.memoryUsage().rss;
    }, 50);
    const t0 = performance.now();
    gen.start();
    await gen.finish();
    clearInterval(sampler);
    const doc = JSON.stringify({ ledger: ledger.summary(), timeline: ledger.timelineData() });
    console.log(
      `harness RSS under the generator (40 clients, ${kinds ? kinds.join('/') : 'the default mix'}, Node correct child, no signal): ${ledger.total} requests in ${((performance.now() - t0) / 1000).toFixed(1)} s, lost ${ledger.lost}; ` +
        `RSS ${mib(before)} before, ${at10k === undefined ? '?' : mib(at10k)} at 10 000 requests, ${mib(process.memoryUsage().rss)} at the end, peak ${mib(process.resourceUsage().maxRSS * 1024)}; ledger + timeline ${doc.length} bytes of JSON`,
    );
  } finally {
    await child.stop(1000);
  }
}

/**
 * The `drain` section of npm run bench (about 40 s here): the generator's harness RSS over
 * 100 000 requests, its ceiling against ab, and the second-signal latency of the correct child
 * (Node; Rust too when its children are already built, since a first build takes about 40 s).
 */
export async function drainBench(): Promise<void> {
  console.log('## graceful-drain: the load generator and the second signal\n');
  // Keep-alive clients (plain, POST, idle): 100 000 requests in about a third of the time the mix with fresh connections takes.
  await rss(100_000, ['keepalive', 'post', 'keepalive', 'idle']);
  await throughput({ keepalive: 5000, fresh: 2000 });
  const small = { concurrency: 10, maxRequests: 2000 };
  await second(4, 'node', small);
  if (rustBuilt(GRACEFUL_DRAIN_PROJECT)) await second(4, 'rust', small);
  else console.log('rust correct child not built yet (repro compare --scenario graceful-drain --runtime rust builds it): second signal not timed for rust');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = arg('only');
  const runs = Number(arg('runs') ?? 20);
  if (!only || only === 'rss') await rss();
  if (!only || only === 'throughput') await throughput();
  if (!only || only === 'second') await second(runs);
  if (!only || only === 'verdicts') await verdicts(runs);
}
