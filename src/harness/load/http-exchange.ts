/**
 * One HTTP/1.1 client connection on raw `net`, so the load generator sees
 * exactly what happened to each request: refused at connect, reset or closed
 * before any response byte, a body cut short of its Content-Length (or its
 * chunked end, or a close-delimited body that ended with the server
 * process), or no answer in time. Node's http client folds these into
 * "socket hang up"; a ledger of losses needs them apart. A connection sends
 * each request once (the generator decides about a retry), and response
 * bodies are counted, not kept.
 */
import { connect, type Socket } from 'node:net';

import type { Outcome } from '../../model/drain.js';

export { OUTCOMES, type Outcome } from '../../model/drain.js';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** Ask for `Connection: close` (a one-shot connection). */
  close: boolean;
  timeoutMs: number;
}

export interface Exchange {
  outcome: Outcome;
  status?: number;
  /** Response bytes received (head and body). */
  bytes: number;
  /** The response said `Connection: close` (or was HTTP/1.0 without keep-alive). */
  serverClose: boolean;
  /** Sent on a connection that had already carried a response. */
  reused: boolean;
  /** What the client saw, in a few words that group alike losses (`ECONNRESET before any response byte`). */
  cause: string;
  /** The specifics (`1536 of 2048 body bytes`), when there are any. */
  detail?: string;
  /** performance.now() when the outcome was known. */
  endedAt: number;
  /** performance.now() of the last response byte received, if any. */
  lastByteAt?: number;
}

const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** Counts a response body framed by Content-Length, chunked encoding, or the end of the connection. */
class BodyCounter {
  received = 0;
  #state: 'size' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  #line = '';
  #left = 0;

  constructor(readonly framing: { length: number } | 'chunked' | 'eof') {
    if (typeof framing === 'object' && framing.length === 0) this.#state = 'done';
  }

  get complete(): boolean {
    return this.#state === 'done';
  }

  /** A phrase for a body that stopped early: `1024 of 4096 body bytes`. */
  progress(): string {
    if (typeof this.framing === 'object') return `${this.received} of ${this.framing.length} body bytes`;
    return `${this.received} body bytes${this.framing === 'chunked' ? ' (chunked, no last chunk)' : ''}`;
  }

  feed(chunk: Buffer): void {
    if (this.#state === 'done') return;
    if (typeof this.framing === 'object') {
      this.received += chunk.length;
      if (this.received >= this.framing.length) this.#state = 'done';
      return;
    }
    if (this.framing === 'eof') {
      this.received += chunk.length;
      return;
    }
    this.received += chunk.length;
    let i = 0;
    while (i < chunk.length && this.#state !== 'done') {
      if (this.#state === 'data') {
        const take = Math.min(this.#left, chunk.length - i);
        this.#left -= take;
        i += take;
        if (this.#left === 0) this.#state = 'crlf';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.#state === 'crlf') {
        if (byte === 0x0a) this.#state = 'size';
        continue;
      }
      if (byte !== 0x0a) {
        if (this.#line.length < 256) this.#line += String.fromCharCode(byte);
        continue;
      }
      const line = this.#line.replace(/\r$/, '');
      this.#line = '';
      if (this.#state === 'trailer') {
        if (line === '') this.#state = 'done';
        continue;
      }
      const size = Number.parseInt(line.split(';')[0] ?? '', 16);
      if (!Number.isFinite(size) || size === 0) this.#state = 'trailer';
      else {
        this.#left = size;
        this.#state = 'data';
      }
    }
  }
}

interface Pending {
  spec: RequestSpec;
  reused: boolean;
  resolve: (e: Exchange) => void;
  timer: NodeJS.Timeout;
  head: Buffer[];
  headBytes: number;
  bytes: number;
  status?: number;
  serverClose: boolean;
  body?: BodyCounter;
  lastByteAt?: number;
}

/**
 * A client connection that carries one request at a time. `reusable` is false
 * once the server asked to close, the connection ended, or a request on it
 * failed; the generator then opens another (if it still may).
 */
export class HttpConnection {
  readonly socket: Socket;
  #pending: Pending | undefined;
  #responses = 0;
  #ended = false;
  #closed = false;
  #serverAskedClose = false;

  /**
   * @param onIdleEnd called when the server ends the connection while no request is on it
   *   (an idle keep-alive connection closed by the server).
   * @param onClose called once when the socket is fully closed.
   * @param serverGone true once the server process has exited (or is inside exit()): a close-delimited
   *   body that ends then ended with the process, and the client cannot tell it from a complete one.
   */
  constructor(
    host: string,
    port: number,
    private readonly onIdleEnd?: (conn: HttpConnection) => void,
    private readonly onClose?: (conn: HttpConnection) => void,
    private readonly serverGone?: () => boolean,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.#data(chunk));
    this.socket.on('end', () => this.#end());
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.#error(error));
    this.socket.on('close', () => {
      this.#closed = true;
      if (this.#pending) this.#finish('reset', 'connection closed before the response');
      this.onClose?.(this);
    });
  }

  /** True while another request may be sent on this connection. */
  get reusable(): boolean {
    return !this.#ended && !this.#closed && !this.#serverAskedClose && !this.socket.destroyed;
  }

  /** Responses completed on this connection. */
  get responses(): number {
    return this.#responses;
  }

  /** Sends one request and resolves with what became of it; never rejects. */
  request(spec: RequestSpec): Promise<Exchange> {
    if (this.#pending) throw new Error('one request at a time per connection');
    return new Promise<Exchange>((resolve) => {
      const pending: Pending = {
        spec,
        reused: this.#responses > 0,
        resolve,
        head: [],
        headBytes: 0,
        bytes: 0,
        serverClose: false,
        timer: setTimeout(() => this.#timeout(), spec.timeoutMs),
      };
      this.#pending = pending;
      if (!this.reusable) {
        this.#finish('reset', 'connection already closed by the server');
        return;
      }
      const body = spec.body ?? '';
      const lines = [
        `${spec.method} ${spec.path} HTTP/1.1`,
        'Host: 127.0.0.1',
        `Connection: ${spec.close ? 'close' : 'keep-alive'}`,
        ...(spec.method === 'POST' ? ['Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(body)}`] : []),
      ];
      this.socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    });
  }

  /** Closes our side (FIN) once the current request, if any, is done; destroys after `ms` if the server does not follow. */
  close(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #data(chunk: Buffer): void {
    const p = this.#pending;
    if (!p) return; // bytes nobody asked for (none from a well-behaved server)
    p.bytes += chunk.length;
    p.lastByteAt = performance.now();
    if (!p.body) {
      p.head.push(chunk);
      p.headBytes += chunk.length;
      const all = Buffer.concat(p.head);
      const end = all.indexOf(HEAD_END);
      if (end < 0) {
        p.head = [all];
        if (all.length > MAX_HEAD_BYTES) this.#finish('other-status', `response head larger than ${MAX_HEAD_BYTES} bytes`, true);
        return;
      }
      this.#parseHead(p, all.subarray(0, end).toString('latin1'));
      if (this.#pending !== p) return;
      this.#bodyOf(p)?.feed(all.subarray(end + HEAD_END.length));
    } else {
      p.body.feed(chunk);
    }
    if (p.body?.complete) this.#complete(p);
  }

  /** The body counter, once the head is parsed (a method, so narrowing does not outlive #parseHead). */
  #bodyOf(p: Pending): BodyCounter | undefined {
    return p.body;
  }

  #parseHead(p: Pending, head: string): void {
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (!match) {
      this.#finish('other-status', `not an HTTP response: ${JSON.stringify(statusLine.slice(0, 40))}`, true);
      return;
    }
    p.status = Number(match[2]);
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim().toLowerCase());
    }
    const connection = headers.get('connection') ?? '';
    p.serverClose = connection.includes('close') || (match[1] === '0' && !connection.includes('keep-alive'));
    const length = headers.get('content-length');
    const noBody = p.status === 204 || p.status === 304 || (p.status >= 100 && p.status < 200);
    p.body = new BodyCounter(noBody ? { length: 0 } : headers.get('transfer-encoding')?.includes('chunked') ? 'chunked' : length !== undefined ? { length: Number(length) } : 'eof');
    if (p.serverClose) this.#serverAskedClose = true;
  }

  #complete(p: Pending): void {
    const status = p.status as number;
    const outcome = status >= 200 && status < 300 ? 'ok' : status >= 500 ? 'unavailable' : 'other-status';
    this.#responses += 1;
    this.#finish(outcome, `HTTP ${status}`);
    if (this.#serverAskedClose || p.spec.close) this.close();
  }

  #end(): void {
    this.#ended = true;
    const p = this.#pending;
    if (!p) {
      this.onIdleEnd?.(this);
      this.close();
      return;
    }
    if (p.body?.framing === 'eof') {
      // The end of a close-delimited body is the end of the connection: one that came with the server's exit may be a cut.
      if (this.serverGone?.()) this.#finish('truncated', 'close-delimited body (no Content-Length, not chunked) ended with the server process: a client cannot tell it from a complete one', false, p.body.progress());
      else this.#complete(p);
      return;
    }
    if (p.body) this.#finish('truncated', 'body cut short, then the server closed the connection (EOF)', false, p.body.progress());
    else this.#finish('reset', `the server closed the connection (EOF) before ${p.bytes ? 'the end of the response head' : 'any response byte'}`, false, `${p.bytes} bytes received`);
    this.close();
  }

  #error(error: NodeJS.ErrnoException): void {
    const code = error.code ?? error.message;
    const p = this.#pending;
    if (!p) return; // an idle connection reset: 'close' follows
    if (code === 'ECONNREFUSED') this.#finish('refused', 'ECONNREFUSED: nothing listening');
    else if (p.body) this.#finish('truncated', `body cut short, then ${code}`, false, p.body.progress());
    else this.#finish('reset', `${code} before ${p.bytes ? 'the end of the response head' : 'any response byte'}`, false, `${p.bytes} bytes received`);
  }

  #timeout(): void {
    const p = this.#pending;
    if (!p) return;
    this.#finish('timeout', `no complete response within ${p.spec.timeoutMs} ms`, false, `${p.bytes} bytes received`);
    this.socket.destroy();
  }

  #finish(outcome: Outcome, cause: string, destroy = false, detail?: string): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    clearTimeout(p.timer);
    const reusedNote = p.reused && outcome !== 'ok' && outcome !== 'unavailable' && outcome !== 'other-status' ? ' (on a reused keep-alive connection)' : '';
    p.resolve({
      outcome,
      ...(p.status === undefined ? {} : { status: p.status }),
      bytes: p.bytes,
      serverClose: p.serverClose,
      reused: p.reused,
      cause: `${cause}${reusedNote}`,
      ...(detail === undefined ? {} : { detail }),
      endedAt: performance.now(),
      ...(p.lastByteAt === undefined ? {} : { lastByteAt: p.lastByteAt }),
    });
    if (destroy || outcome === 'reset' || outcome === 'truncated' || outcome === 'refused') this.socket.destroy();
  }
}
