/** What a command needs from the process it runs in: where to print, colour, interruption. */
import { readFileSync } from 'node:fs';
import { parseLimits } from '../fdprobe/proc-text.js';
import type { LaunchedChild } from '../harness/launch.js';

/** Colour: FORCE_COLOR wins, then NO_COLOR, then whether stdout is a terminal. */
export function useColor(env: NodeJS.ProcessEnv = process.env, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY);
}

export function terminalWidth(): number {
  return Math.min(120, Math.max(60, process.stdout.columns ?? 80));
}

/** This process's hard RLIMIT_NOFILE: a child cannot be given more. */
export function ownHardFdLimit(): number | null {
  try {
    return parseLimits(readFileSync('/proc/self/limits', 'utf8')).hard;
  } catch {
    return null;
  }
}

/**
 * Ctrl-C (or SIGTERM) aborts the run: children are torn down and what was
 * sampled is still written. A second one kills every child at once and exits.
 */
export class Interruption {
  readonly controller = new AbortController();
  readonly #children = new Set<LaunchedChild>();
  signal: NodeJS.Signals | undefined;
  readonly #handler = (sig: NodeJS.Signals) => {
    if (this.signal) {
      for (const child of this.#children) child.killNow();
      process.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    this.signal = sig;
    process.stderr.write(`\nrepro: ${sig} received, stopping children and writing what was sampled (again to exit at once)\n`);
    this.controller.abort();
  };

  constructor() {
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  track(child: LaunchedChild): void {
    this.#children.add(child);
    void child.exited.then(() => this.#children.delete(child));
  }

  dispose(): void {
    process.removeListener('SIGINT', this.#handler);
    process.removeListener('SIGTERM', this.#handler);
  }
}
