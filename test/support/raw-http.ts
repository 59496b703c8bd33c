/** Loopback HTTP from the tests' side, below repro's own client: raw sockets, Node's client, the kernel's accept queue. */
import { readFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { launchChild } from '../../src/harness/launch.js';

/** A raw connection to the port on 127.0.0.1; resolves once connected (or with the error code). */
export function open(port: number): Promise<{ socket: Socket; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => resolve({ socket }));
    socket.on('error', (e: NodeJS.ErrnoException) => resolve({ socket, error: e.code ?? e.message }));
  });
}

/** Connections waiting in the accept queue of the LISTEN socket on `port`, from /proc/net/tcp (rx_queue of a listener). */
export function acceptQueue(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === `0100007F:${hexPort}` && f[3] === '0A') return Number.parseInt((f[4] ?? '0:0').split(':')[1] as string, 16);
  }
  return undefined;
}

/** Bytes received on `socket` until it ends, and whether it ended by a reset. */
export function drain(socket: Socket): Promise<{ bytes: number; text: string; reset: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    let reset = false;
    socket.on('data', (b: Buffer) => (text += b.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (reset = e.code === 'ECONNRESET'));
    socket.on('close', () => resolve({ bytes: text.length, text, reset }));
  });
}

/** GET on a new connection with Node's own client. */
export function httpGet(port: number, path: string): Promise<IncomingMessage & { body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(Object.assign(res, { body })));
    });
    req.on('error', reject);
  });
}

/**
 * A graceful-drain child (its command) with one connection: `sent` is written, then SIGTERM, then, once
 * its listener is closed, `later` (if any) 400 ms on: well past the correct child's 100 ms idle threshold
 * and several 20 ms sweeps. Resolves to what came back on the connection, the child's exit code and how
 * long after the signal it exited.
 */
export async function atTheSignal(command: string[], sent: string, later?: string): Promise<{ text: string; exitCode: number | null; exitedAfterMs: number }> {
  const child = launchChild({ command });
  try {
    const ready = await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
    const { socket } = await open((ready.event as unknown as { port: number }).port);
    const ended = drain(socket);
    socket.write(sent);
    await new Promise((r) => setTimeout(r, 200));
    const listenerClosed = new Promise<void>((resolve) => child.output.onOtherEvent((e) => e.event === 'listener-closed' && resolve()));
    const signalAt = performance.now();
    child.signal('SIGTERM');
    if (later !== undefined) {
      await listenerClosed;
      await new Promise((r) => setTimeout(r, 400));
      socket.write(later);
    }
    const { text } = await ended;
    const { exitCode } = await child.exited;
    return { text, exitCode, exitedAfterMs: performance.now() - signalAt };
  } finally {
    await child.stop(1000);
  }
}
