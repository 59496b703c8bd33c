/**
 * What every graceful-drain `correct` child must do with one connection at the signal, whatever its
 * runtime: each file calls correctServerCases with its child's command (--lag 0, --grace 3000).
 */
import { expect, it } from 'vitest';
import { atTheSignal } from './raw-http.js';

const statusLines = (text: string) => text.match(/^HTTP\/1\.[01] \d{3} /gm) ?? [];

export function correctServerCases(command: () => string[]): void {
  it('correct: a request whose first bytes came before the idle sweep is answered, not closed as idle', async () => {
    // The request line is in, the headers are not: the server has its first bytes, not a parsed request.
    const { text, exitCode } = await atTheSignal(command(), 'POST /work?ms=0 HTTP/1.1\r\nHost: x\r\n', 'Content-Length: 2\r\n\r\nok');
    expect(text).toMatch(/^HTTP\/1\.[01] 201 /);
    expect(text).toMatch(/connection: close/i);
    expect(exitCode).toBe(0);
  });

  it('correct: pipelined requests are each answered, the second one in flight at the signal', async () => {
    const two = 'GET /ready HTTP/1.1\r\nHost: x\r\n\r\nGET /work?ms=600 HTTP/1.1\r\nHost: x\r\n\r\n';
    const { text, exitCode } = await atTheSignal(command(), two);
    expect(statusLines(text)).toEqual(['HTTP/1.1 200 ', 'HTTP/1.1 200 ']);
    expect(exitCode).toBe(0);
  });

  it('correct: a client that sends one byte and stops does not hold the drain to its grace', async () => {
    const { exitCode, exitedAfterMs } = await atTheSignal(command(), 'G');
    expect(exitCode).toBe(0);
    expect(exitedAfterMs).toBeLessThan(2500);
  });
}
