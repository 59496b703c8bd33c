/**
 * npm run bench, section "start-up": what a person feels on every command and
 * what a script calling `repro probe` in a loop pays. Each one-shot command's
 * whole-process wall time against `node -e 0` (Node's own start, the floor no
 * Node CLI can go under), the probe against `lsof -p` and a shell count of
 * /proc/PID/fd at 10, 1,000 and 5,000 fds, and `repro compare` against another
 * checkout given with `--before DIR` (built, e.g. the commit before the
 * scenario plug-in refactor). Medians of runs taken in turns.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { timeInterleaved } from './timing.js';

const BIN = fileURLToPath(new URL('../../bin/repro.js', import.meta.url));
const HOLDER = fileURLToPath(new URL('./hold-fds.py', import.meta.url));
const RUNS = 21;

const ms = (n: number) => `${n.toFixed(1)} ms`;
const plus = (n: number, floor: number) => `${n - floor >= 0 ? '+' : '−'}${Math.abs(n - floor).toFixed(1)} ms`;

/** A process holding about n fds until its stdin closes; resolves once it holds them. */
async function holding(n: number): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = execa('python3', [HOLDER, String(n)], { stdin: 'pipe', reject: false });
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  return {
    pid: child.pid as number,
    stop: async () => {
      child.stdin?.end();
      await child;
    },
  };
}

function commandsBench(pid: number): void {
  const node = process.execPath;
  const commands: [label: string, file: string, args: string[]][] = [
    ['node -e 0', node, ['-e', '0']],
    ['repro --version', node, [BIN, '--version']],
    ['repro list', node, [BIN, 'list']],
    [`repro probe PID (${fdCount(pid)} fds)`, node, [BIN, 'probe', String(pid)]],
    ['repro --help (the full CLI)', node, [BIN, '--help']],
  ];
  const walls = timeInterleaved(commands.map(([, file, args]) => [file, args]), RUNS);
  const floor = walls[0] as number;
  console.log('| command | wall (median) | over node -e 0 |');
  console.log('|---|---|---|');
  commands.forEach(([label], i) => console.log(`| ${label} | ${ms(walls[i] as number)} | ${i === 0 ? '—' : plus(walls[i] as number, floor)} |`));
  console.log('');
}

function fdCount(pid: number): number {
  return Number(execFileSync('sh', ['-c', `ls /proc/${pid}/fd | wc -l`], { encoding: 'utf8' }).trim());
}

async function probeAgainstLsof(): Promise<void> {
  console.log('| fds | repro probe PID | lsof -n -P -w -p PID | ls /proc/PID/fd \\| wc -l | repro / lsof |');
  console.log('|---|---|---|---|---|');
  for (const n of [10, 1000, 5000]) {
    const holder = await holding(n);
    try {
      const pid = String(holder.pid);
      const [repro, lsof, shell] = timeInterleaved(
        [
          [process.execPath, [BIN, 'probe', pid]],
          ['lsof', ['-n', '-P', '-w', '-p', pid]],
          ['sh', ['-c', `ls /proc/${pid}/fd | wc -l`]],
        ],
        RUNS,
      ) as [number, number, number];
      console.log(`| ${fdCount(holder.pid)} | ${ms(repro)} | ${ms(lsof)} | ${ms(shell)} | ${(repro / lsof).toFixed(2)}× |`);
    } finally {
      await holder.stop();
    }
  }
  console.log('');
}

function compareBench(): void {
  const at = process.argv.indexOf('--before');
  const before = at > 0 ? process.argv[at + 1] : undefined;
  const beforeBin = before ? join(before, 'bin/repro.js') : undefined;
  const commands: [file: string, args: string[]][] = [[process.execPath, [BIN, 'compare', '--json']]];
  if (beforeBin && existsSync(beforeBin)) commands.push([process.execPath, [beforeBin, 'compare', '--json']]);
  const [now, then] = timeInterleaved(commands, 5);
  console.log(`repro compare (defaults, whole process): median ${ms(now as number)} over 5 runs`);
  if (then !== undefined) console.log(`the checkout at ${before}: ${ms(then)}; this one takes ${((now as number) / then).toFixed(2)}× its time`);
  else console.log('(give --before DIR, a built checkout, to compare with it: e.g. the commit before the scenario plug-in refactor, 9b3cb42)');
}

export async function startUpBench(): Promise<void> {
  console.log(`## start-up: one-shot commands against node -e 0, the probe against lsof (medians of ${RUNS} runs in turns)\n`);
  const small = await holding(10);
  try {
    commandsBench(small.pid);
  } finally {
    await small.stop();
  }
  await probeAgainstLsof();
  compareBench();
  console.log('- repro --version, list and probe PID (the plainest forms) run on a fast path without commander or the option table (src/cli/fast.ts); --help is the full CLI');
}
