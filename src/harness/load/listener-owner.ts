/**
 * Which process of a tree holds the listening socket the load goes to: the
 * server a shutdown is about. A wrapper (`sh -c` without exec, a launcher that
 * daemonizes) is not it; the topmost holder is (nginx's or gunicorn's master,
 * not a worker that inherited the socket). Read from /proc: the LISTEN sockets
 * of the port in /proc/PID/net/tcp and tcp6, then the fds that point at them.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { descendants, type TreeProcess } from '../tree/tree.js';

/** TCP_LISTEN in /proc/net/tcp's `st` column. */
const LISTEN = '0A';

/** Inodes of the sockets listening on `port` in the network namespace of `pid` (IPv4 and IPv6). */
export function listeningInodes(pid: number, port: number, procRoot = '/proc'): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${pid}/net/${table}`, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== LISTEN || !f[1]?.endsWith(`:${hexPort}`)) continue;
      if (f[9] && f[9] !== '0') inodes.add(f[9]);
    }
  }
  return inodes;
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
