/**
 * npm run bench, section "start-up": what a person feels on every command and
 * what a script calling `repro probe` in a loop pays. Each one-shot command's
 * whole-process wall time against `node -e 0` (Node's own start, the floor no
 * Node CLI can go under), the probe against `lsof -p` and a shell count of
 * /proc/PID/fd at 10, 1,000 and 5,000 fds, and `repro compare` against another
 * checkout given with `--before DIR` (built, e.g. the commit before the
 * scenario plug-in refactor). Medians of runs taken in turns.
 *
 * Where the environment sets NODE_EXTRA_CA_CERTS (this machine class does),
 * Node 20 reads and parses that bundle when it starts, whatever the program:
 * the Node rows are also timed with it unset, so the figures say what is
 * repro's and what is the environment's.
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
/** NODE_EXTRA_CA_CERTS as the environment sets it; undefined when it does not (or sets it empty). */
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS || undefined;
/** This environment without NODE_EXTRA_CA_CERTS. */
function withoutExtraCa(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}
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
  // repro as a command (what `repro`, `npx repro` and a global install run): the launcher's sh line first.
  const commands: [label: string, file: string, args: string[], env?: NodeJS.ProcessEnv][] = [
    ['node -e 0', node, ['-e', '0']],
    ...(EXTRA_CA === undefined ? [] : [['node -e 0, NODE_EXTRA_CA_CERTS unset', node, ['-e', '0'], withoutExtraCa()] as [string, string, string[], NodeJS.ProcessEnv]]),
    ['repro --version', BIN, ['--version']],
    ['repro list', BIN, ['list']],
    [`repro probe PID (${fdCount(pid)} fds)`, BIN, ['probe', String(pid)]],
    ['repro --help (the full CLI)', BIN, ['--help']],
  ];
  const walls = timeInterleaved(commands.map(([, file, args, env]) => [file, args, env]), RUNS);
  const floor = walls[0] as number;
  // Where the variable is set, repro (run as a command) starts without it: its own floor is Node's start without it.
  const bare = EXTRA_CA === undefined ? undefined : (walls[1] as number);
  const over = (i: number) => (i === 0 ? '—' : plus(walls[i] as number, floor)) + (bare === undefined ? '' : ` | ${i <= 1 ? '—' : plus(walls[i] as number, bare)}`);
  console.log(`| command | wall (median) | over node -e 0 |${bare === undefined ? '' : ' over node -e 0 without NODE_EXTRA_CA_CERTS |'}`);
  console.log(`|---|---|---|${bare === undefined ? '' : '---|'}`);
  commands.forEach(([label], i) => console.log(`| ${label} | ${ms(walls[i] as number)} | ${over(i)} |`));
  console.log('');
  if (EXTRA_CA !== undefined) {
    console.log(`NODE_EXTRA_CA_CERTS is set here (${EXTRA_CA}): Node reads and parses it at every start, whatever the program. repro's launcher (bin/repro.js, run as a command) starts Node without it and hands it back to the processes repro starts.\n`);
  }
}

function fdCount(pid: number): number {
  return Number(execFileSync('sh', ['-c', `ls /proc/${pid}/fd | wc -l`], { encoding: 'utf8' }).trim());
}

async function probeAgainstLsof(): Promise<void> {
  const direct = EXTRA_CA === undefined ? '' : ' `node bin/repro.js probe PID` (Node parses NODE_EXTRA_CA_CERTS) |';
  console.log(`| fds | repro probe PID | lsof -n -P -w -p PID | ls /proc/PID/fd \\| wc -l | repro / lsof |${direct}`);
  console.log(`|---|---|---|---|---|${EXTRA_CA === undefined ? '' : '---|'}`);
  for (const n of [10, 1000, 5000]) {
    const holder = await holding(n);
    try {
      const pid = String(holder.pid);
      const commands: [string, string[]][] = [
        [BIN, ['probe', pid]],
        ['lsof', ['-n', '-P', '-w', '-p', pid]],
        ['sh', ['-c', `ls /proc/${pid}/fd | wc -l`]],
      ];
      if (EXTRA_CA !== undefined) commands.push([process.execPath, [BIN, 'probe', pid]]);
      const [repro, lsof, shell, viaNode] = timeInterleaved(commands, RUNS) as [number, number, number, number?];
      console.log(`| ${fdCount(holder.pid)} | ${ms(repro)} | ${ms(lsof)} | ${ms(shell)} | ${(repro / lsof).toFixed(2)}× |${viaNode === undefined ? '' : ` ${ms(viaNode)} |`}`);
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
  // Against another checkout, both run as `node BIN` (an older launcher does not skip NODE_EXTRA_CA_CERTS): like for like.
  const against = beforeBin !== undefined && existsSync(beforeBin);
  const commands: [file: string, args: string[]][] = [against ? [process.execPath, [BIN, 'compare', '--json']] : [BIN, ['compare', '--json']]];
  if (against) commands.push([process.execPath, [beforeBin, 'compare', '--json']]);
  const [now, then] = timeInterleaved(commands, 5);
  console.log(`repro compare (defaults, whole process${against ? ', both as node BIN' : ''}): median ${ms(now as number)} over 5 runs`);
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
