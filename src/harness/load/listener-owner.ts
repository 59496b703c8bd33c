/**
 * Which process of a tree holds the listening socket the load goes to: the
 * server a shutdown is about. A wrapper (`sh -c` without exec, a launcher that
 * daemonizes) is not it; the topmost holder is (nginx's or gunicorn's master,
 * not a worker that inherited the socket). Read from /proc: the LISTEN sockets
 * of the port in /proc/PID/net/tcp and tcp6, then the fds that point at them.
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { descendants, type TreeProcess } from '../tree/tree.js';

/** TCP_LISTEN in /proc/net/tcp's `st` column. */
const LISTEN = '0A';

/** Read size of the socket tables: a page's worth of rows per read. */
const CHUNK_BYTES = 16 * 1024;

/**
 * The LISTEN rows of one socket table (/proc/PID/net/tcp or tcp6), or undefined when it cannot be read. The
 * kernel prints the listening hash before the established one, so the rows stop at the first row in another
 * state: under a load of one-shot connections the table holds thousands of TIME_WAIT rows after the listeners
 * (a whole read and split of it per poll took most of watch --url's event loop, and the load's rate with it).
 */
function listenRows(path: string): string[] | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const rows: string[] = [];
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let pending = '';
  let header = true;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      const lines = (pending + buffer.toString('latin1', 0, n)).split('\n');
      pending = n === 0 ? '' : (lines.pop() as string);
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        const f = line.trim().split(/\s+/);
        // sl local_address rem_address st …: the first row not listening ends the listeners.
        if (f.length < 4) continue;
        if (f[3] !== LISTEN) return rows;
        rows.push(line);
      }
      if (n === 0) return rows;
    }
  } catch {
    return rows;
  } finally {
    closeSync(fd);
  }
}

/**
 * Inodes of the sockets listening on `port` in the network namespace of `pid` that take the load's
 * connections: for an IPv4 target (the default) the IPv4 listeners, or the IPv6 ones (dual-stack, `[::]`)
 * when none listens on IPv4; for `::1` the IPv6 ones. tcp6 is read only when needed: the kernel walks every
 * established socket of the namespace to print a table, and a tcp6 table with no rows of its own behind
 * thousands of IPv4 TIME_WAIT sockets (the load's one-shot connections) cost ~2 ms per poll.
 */
export function listeningInodes(pid: number, port: number, procRoot = '/proc', family: 'ipv4' | 'ipv6' = 'ipv4'): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const onPort = (table: string): Set<string> => {
    const inodes = new Set<string>();
    for (const line of listenRows(`${procRoot}/${pid}/net/${table}`) ?? []) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || !f[1]?.endsWith(`:${hexPort}`)) continue;
      if (f[9] && f[9] !== '0') inodes.add(f[9]);
    }
    return inodes;
  };
  if (family === 'ipv6') return onPort('tcp6');
  const v4 = onPort('tcp');
  return v4.size > 0 ? v4 : onPort('tcp6');
}

/** True when one of `pid`'s fds is one of these sockets. */
function holdsOne(pid: number, inodes: ReadonlySet<string>, procRoot: string): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${procRoot}/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1] as string)) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/**
 * The topmost process of `rootPid`'s tree (parents before children) that holds a socket listening on
 * `port`; undefined when none does (the server listens elsewhere, or its fds cannot be read).
 */
export function listenerOwner(rootPid: number, port: number, options: { includeRoot?: boolean; procRoot?: string } = {}): TreeProcess | undefined {
  const procRoot = options.procRoot ?? '/proc';
  const inodes = listeningInodes(rootPid, port, procRoot);
  if (inodes.size === 0) return undefined;
  return descendants(rootPid, { includeRoot: options.includeRoot ?? true, procRoot }).find((p) => p.state !== 'Z' && holdsOne(p.pid, inodes, procRoot));
}
