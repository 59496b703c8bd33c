/** Timing helpers shared by the bench sections. */
import { execFileSync } from 'node:child_process';
import { percentile } from '../../src/model/stats.js';

const median = (v: number[]) => percentile(v, 50) as number;

/**
 * Median wall time (ms) of each command, run in turns (a, b, c, a, b, c...) so
 * a burst of load on this shared machine hits all of them alike. Output is discarded.
 */
export function timeInterleaved(commands: [file: string, args: string[], env?: NodeJS.ProcessEnv][], runs: number): number[] {
  const walls: number[][] = commands.map(() => []);
  const once = ([file, args, env]: [string, string[], NodeJS.ProcessEnv?]) => {
    const t0 = performance.now();
    execFileSync(file, args, { stdio: ['ignore', 'ignore', 'ignore'], env: env ?? process.env });
    return performance.now() - t0;
  };
  commands.forEach((command) => once(command)); // warm the page cache
  for (let i = 0; i < runs; i++) commands.forEach((command, k) => walls[k]?.push(once(command)));
  return walls.map((w) => median(w));
}
