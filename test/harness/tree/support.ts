/** Fixtures of the tree tests: compiled once per file into a temporary directory, started and always killed. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goneWithin, isAlive } from '../../support/processes.js';

export const service = (name: string) => fileURLToPath(new URL(`../../fixtures/services/${name}`, import.meta.url));

/** Compiles C fixtures (by name, without .c) into a fresh directory; `bin(name)` is the binary. */
export function compiled(names: string[]): { bin: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'repro-tree-'));
  for (const name of names) execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', join(dir, name), service(`${name}.c`)]);
  return { bin: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const started: ChildProcess[] = [];

/** Starts a fixture in its own process group; `stopAll()` kills every group started. */
export function start(argv: string[], options: { stdout?: 'pipe' | 'ignore' } = {}): ChildProcess & { pid: number } {
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['ignore', options.stdout ?? 'ignore', 'inherit'] });
  if (child.pid === undefined) throw new Error(`cannot start ${argv.join(' ')}`);
  started.push(child);
  return child as ChildProcess & { pid: number };
}

/** First line the child writes on stdout. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) resolve(text.split('\n')[0] as string);
    });
    child.once('exit', () => reject(new Error(`exited before a line: ${text}`)));
  });
}

export async function stopAll(): Promise<void> {
  for (const child of started.splice(0)) {
    const pid = child.pid as number;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
    child.stdout?.destroy();
    if (isAlive(pid)) await goneWithin(pid, 2000);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `pid` catches `signo` (SigCgt) and its fd count has held for `quietMs`. */
export async function readyToReload(pid: number, signo = 1, quietMs = 100): Promise<void> {
  const { readFileSync, readdirSync } = await import('node:fs');
  const deadline = performance.now() + 10_000;
  const caught = () => ((BigInt(`0x${/^SigCgt:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0'}`) >> BigInt(signo - 1)) & 1n) === 1n;
  while (!caught()) {
    if (performance.now() > deadline) throw new Error(`pid ${pid} never caught signal ${signo}`);
    await sleep(10);
  }
  let last = -1;
  let since = performance.now();
  for (;;) {
    const n = readdirSync(`/proc/${pid}/fd`).length;
    if (n !== last) {
      last = n;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return;
    if (performance.now() > deadline) throw new Error(`pid ${pid} never settled`);
    await sleep(5);
  }
}
