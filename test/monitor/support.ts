/** What the monitor tests share: the fixture service, a real `repro monitor` process, a scrape. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { BIN } from '../support/cli.js';

export const FIXTURE = fileURLToPath(new URL('./fixtures/reloads-on-hup.py', import.meta.url));

/** A started process and what it printed. */
export interface Started {
  /** The process. */
  child: ChildProcess;
  /** Its pid. */
  pid: number;
  /** Everything it wrote to stderr so far. */
  stderr: () => string;
  /** Resolves to its exit code (or the signal that ended it). */
  exited: Promise<number | NodeJS.Signals>;
}

function started(child: ChildProcess): Started {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | NodeJS.Signals);
  return { child, pid: child.pid as number, stderr: () => err, exited };
}

/** The fixture service, `leak` or `correct`, with `tag` in its argv for --match (and its reload lines to `log`); resolves once its SIGHUP handler is in. */
export async function startService(mode: 'leak' | 'correct', tag: string, log?: string): Promise<Started> {
  const child = spawn('python3', [FIXTURE, mode, tag, ...(log === undefined ? [] : [log])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const s = started(child);
  const [first] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  if (!first.toString().startsWith('ready')) throw new Error(`fixture said ${first.toString()}`);
  return s;
}

/** `repro monitor ARGS` (with --listen 127.0.0.1:0 unless a --listen or --textfile only run is asked); resolves once it says where it serves. */
export async function startMonitor(args: string[]): Promise<Started & { port: number | undefined }> {
  const child = spawn(process.execPath, [BIN, 'monitor', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const s = started(child);
  const until = performance.now() + 20_000;
  while (!/every \d+ ms/.test(s.stderr())) {
    if (child.exitCode !== null || performance.now() > until) throw new Error(`repro monitor did not start: ${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = /127\.0\.0\.1:(\d+)\/metrics/.exec(s.stderr())?.[1];
  return { ...s, port: port === undefined ? undefined : Number(port) };
}

/** GET /metrics: status, content type and body; `openMetrics` sends the Accept header Prometheus sends. */
export function scrape(port: number, openMetrics = false): Promise<{ status: number; contentType: string; body: string }> {
  const accept = openMetrics ? 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' : 'text/plain';
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', headers: { accept }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

/** The value of one sample (`name{...labels containing every given pair}`) in an exposition; undefined when absent. */
export function sampleValue(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Polls `probe` every 50 ms until it returns a value, for at most `ms`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = performance.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Ends a process this test started (by its pid only), and waits for it. */
export async function stop(s: Started | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill(signal);
  await s.exited;
}
