/**
 * The client side of the ledger against real sockets: servers in this test
 * that answer, refuse, reset, cut a body, chunk, or never answer. Each outcome
 * must come out as what the client really saw.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpConnection } from '../../../src/harness/load/http-exchange.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();

/** A raw TCP server on loopback whose every connection gets `onRequest` once the request head has arrived. */
async function rawServer(onRequest: (socket: Socket, request: string) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      while (text.includes('\r\n\r\n')) {
        const end = text.indexOf('\r\n\r\n') + 4;
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (text.length < end + length) return;
        const request = text.slice(0, end + length);
        text = text.slice(end + length);
        onRequest(socket, request);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const get = { method: 'GET' as const, path: '/work', close: false, timeoutMs: 2000 };

describe('one HTTP exchange over raw net', () => {
  it('a complete response with Content-Length is ok, and the connection is reused for the next one', async () => {
    const port = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'));
    const conn = new HttpConnection('127.0.0.1', port);
    const first = await conn.request(get);
    const second = await conn.request(get);
    expect(first).toMatchObject({ outcome: 'ok', status: 200, reused: false, serverClose: false });
    expect(second).toMatchObject({ outcome: 'ok', reused: true });
    conn.destroy();
  });

  it('a POST body reaches the server whole', async () => {
    let seen = '';
    const port = await rawServer((s, request) => {
      seen = request;
      s.write('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
    });
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request({ ...get, method: 'POST', body: 'order=7' })).toMatchObject({ outcome: 'ok', status: 201 });
    expect(seen).toMatch(/^POST \/work HTTP\/1\.1\r\n[\s\S]*Content-Length: 7\r\n\r\norder=7$/);
    conn.destroy();
  });

  it('Connection: close from the server ends reuse; a 503 is an answer ("unavailable")', async () => {
    const port = await rawServer((s) => s.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 9\r\n\r\ndraining\n'));
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request(get)).toMatchObject({ outcome: 'unavailable', status: 503, serverClose: true });
    expect(conn.reusable).toBe(false);
  });

  it('nothing listening is "refused"', async () => {
    const port = await rawServer(() => {});
    await new Promise((r) => (servers.pop() as Server).close(r));
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request(get)).toMatchObject({ outcome: 'refused', cause: 'ECONNREFUSED: nothing listening' });
  });

  it('a reset before any byte is "reset", with the errno', async () => {
    const port = await rawServer((s) => s.resetAndDestroy());
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request(get)).toMatchObject({ outcome: 'reset', bytes: 0, cause: 'ECONNRESET before any response byte' });
  });

  it('a close (FIN) before any byte is "reset" too: the request was let in and not answered', async () => {
    const port = await rawServer((s) => s.end());
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request(get)).toMatchObject({ outcome: 'reset', cause: 'the server closed the connection (EOF) before any response byte' });
  });

  it('a body cut short of its Content-Length is "truncated", with the bytes that came', async () => {
    const port = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-ten!!'));
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request(get)).toMatchObject({ outcome: 'truncated', status: 200, detail: '10 of 100 body bytes', cause: 'body cut short, then the server closed the connection (EOF)' });
  });

  it('a chunked body is complete only with its last chunk', async () => {
    const whole = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n'));
    const cut = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'));
    const a = new HttpConnection('127.0.0.1', whole);
    const b = new HttpConnection('127.0.0.1', cut);
    expect(await a.request(get)).toMatchObject({ outcome: 'ok' });
    expect(await b.request(get)).toMatchObject({ outcome: 'truncated' });
    a.destroy();
  });

  it('no answer in time is "timeout", and the connection is dropped', async () => {
    const port = await rawServer(() => {});
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request({ ...get, timeoutMs: 100 })).toMatchObject({ outcome: 'timeout', cause: 'no complete response within 100 ms' });
    expect(conn.socket.destroyed).toBe(true);
  });

  it.each([500, 502, 504])('a %i is a 5xx ("unavailable", lost), its status kept', async (status) => {
    const port = await rawServer((s) => s.write(`HTTP/1.1 ${status} Oops\r\nContent-Length: 2\r\n\r\nno`));
    const conn = new HttpConnection('127.0.0.1', port);
    expect(await conn.request(get)).toMatchObject({ outcome: 'unavailable', status, cause: `HTTP ${status}` });
    conn.destroy();
  });

  it('a close-delimited body (no length, not chunked) that ends with the server process is truncated; one that ends while it runs is complete', async () => {
    let gone = false;
    const port = await rawServer((s) => {
      s.write('HTTP/1.0 200 OK\r\n\r\n' + 'x'.repeat(700));
      setTimeout(() => s.end(), 20);
    });
    const running = new HttpConnection('127.0.0.1', port, undefined, undefined, () => gone);
    expect(await running.request(get)).toMatchObject({ outcome: 'ok', status: 200 });
    gone = true;
    const cut = new HttpConnection('127.0.0.1', port, undefined, undefined, () => gone);
    expect(await cut.request(get)).toMatchObject({ outcome: 'truncated', detail: '700 body bytes', cause: expect.stringContaining('close-delimited body') });
  });
});
