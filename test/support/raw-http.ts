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
 * A graceful-drain correct child (its command) sent SIGTERM while a POST's request line is in and its
 * headers are not: the server has its first bytes, not a parsed request. The rest is written well past
 * the 100 ms idle threshold and several 20 ms sweeps. Resolves to the response and the child's exit code.
 */
export async function requestBegunAtTheSignal(command: string[]): Promise<{ text: string; exitCode: number | null }> {
  const child = launchChild({ command });
  try {
    const ready = await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
    const { socket } = await open((ready.event as unknown as { port: number }).port);
    const ended = drain(socket);
    socket.write('POST /work?ms=0 HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 200));
    const listenerClosed = new Promise<void>((resolve) => child.output.onOtherEvent((e) => e.event === 'listener-closed' && resolve()));
    child.signal('SIGTERM');
    await listenerClosed;
    await new Promise((r) => setTimeout(r, 400));
    socket.write('Content-Length: 2\r\n\r\nok');
    const { text } = await ended;
    return { text, exitCode: (await child.exited).exitCode };
  } finally {
    await child.stop(1000);
  }
}
