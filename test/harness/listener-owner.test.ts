/**
 * The port's listening sockets, as watch --url and drain find them: the real
 * tables of this process's namespace (an IPv4 listener, a dual-stack one), and
 * the reading rules on written tables (the listeners end at the first row in
 * another state; tcp6 is read only when IPv4 has no listener on the port).
 */
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listeningInodes } from '../../src/harness/load/listener-owner.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const row = (sl: number, local: string, state: string, inode: number) => `  ${sl}: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`;

function listen(host: string): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, host, () => resolve(server)));
}

const servers: Server[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A /proc with one process whose net/tcp and net/tcp6 are these rows. */
function procWith(tcp: string[], tcp6: string[] | undefined): string {
  const root = mkdtempSync(join(tmpdir(), 'repro-listeners-'));
  dirs.push(root);
  mkdirSync(join(root, '1', 'net'), { recursive: true });
  writeFileSync(join(root, '1', 'net', 'tcp'), [HEADER, ...tcp, ''].join('\n'));
  if (tcp6) writeFileSync(join(root, '1', 'net', 'tcp6'), [HEADER, ...tcp6, ''].join('\n'));
  return root;
}

describe('listeningInodes', () => {
  it('finds a real IPv4 listener by its socket inode, and a dual-stack [::] one through tcp6', async () => {
    const v4 = await listen('127.0.0.1');
    const dual = await listen('::');
    servers.push(v4, dual);
    const inodeOf = (s: Server) => readlinkSync(`/proc/self/fd/${(s as unknown as { _handle: { fd: number } })._handle.fd}`).replace(/^socket:\[(\d+)\]$/, '$1');
    const v4Port = (v4.address() as { port: number }).port;
    const dualPort = (dual.address() as { port: number }).port;
    expect([...listeningInodes(process.pid, v4Port)]).toEqual([inodeOf(v4)]);
    expect([...listeningInodes(process.pid, dualPort)]).toEqual([inodeOf(dual)]);
    expect([...listeningInodes(process.pid, dualPort, '/proc', 'ipv6')]).toEqual([inodeOf(dual)]);
  });

  it('stops at the first row that is not listening: the kernel prints the listeners first', () => {
    // 0x1F90 = 8080. A LISTEN row after a TIME_WAIT one cannot be in a real table: reading it would mean reading on.
    const root = procWith([row(0, '0100007F:0016', '0A', 11), row(1, '0100007F:1F90', '0A', 22), row(2, '0100007F:1F90', '06', 0), row(3, '0100007F:1F90', '0A', 33)], []);
    expect([...listeningInodes(1, 8080, root)]).toEqual(['22']);
  });

  it('reads tcp6 only when IPv4 has no listener on the port, and only tcp6 for ::1', () => {
    const both = procWith([row(0, '0100007F:1F90', '0A', 22)], [row(0, '00000000000000000000000000000000:1F90', '0A', 66)]);
    expect([...listeningInodes(1, 8080, both)]).toEqual(['22']);
    expect([...listeningInodes(1, 8080, both, 'ipv6')]).toEqual(['66']);
    const v6only = procWith([row(0, '0100007F:0016', '0A', 11)], [row(0, '00000000000000000000000000000000:1F90', '0A', 66)]);
    expect([...listeningInodes(1, 8080, v6only)]).toEqual(['66']);
    expect([...listeningInodes(1, 8080, procWith([], undefined))]).toEqual([]);
  });
});
