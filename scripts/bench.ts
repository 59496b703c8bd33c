/**
 * npm run bench: figures and ratios against the alternatives, printed, not asserted.
 * Section "reload": signal round trip, `repro compare` wall time, and a plain
 * shell loop doing the same 500 reloads. `--only reload|probe` picks one section.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runPattern, type ScenarioOptions } from '../src/cli/commands/scenario.js';
import { launchChild } from '../src/harness/launch.js';
import { percentile } from '../src/model/stats.js';
import { childCommand, findScenario } from '../src/scenarios/registry.js';

const BIN = fileURLToPath(new URL('../bin/repro.js', import.meta.url));
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

const options: ScenarioOptions = {
  scenario: 'sighup-listener',
  channel: 'pipe',
  ulimit: 64,
  reloads: 500,
  ackTimeout: 5000,
  readyTimeout: 15_000,
  deadCheck: 300,
  grace: 2000,
  maxGrowth: 0.01,
};

const median = (v: number[]) => percentile(v, 50) as number;
const f = (n: number, d = 3) => n.toFixed(d);

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
    execFileSync(process.execPath, [BIN, 'compare', '--json'], { stdio: ['ignore', 'ignore', 'inherit'] });
    compareWalls.push(performance.now() - t0);
  }
  const compareS = median(compareWalls) / 1000;
  console.log(`repro compare (defaults, whole CLI process): median ${f(compareS)} s over 5 runs  (target ≤ 2 s)`);

  // The hand-made alternative: kill -HUP, a 10 ms settle, count /proc/PID/fd, 500 times.
  const scenario = findScenario('sighup-listener');
  if (!scenario) throw new Error('scenario missing');
  const child = launchChild({ command: childCommand(scenario, 'correct', 'pipe'), ulimit: 64 });
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

const sections: Record<string, () => Promise<void>> = { reload: reloadBench };
for (const [name, bench] of Object.entries(sections)) {
  if (only && only !== name) continue;
  await bench();
  console.log();
}
