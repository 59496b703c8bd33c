/**
 * What an anonymous fd is, from /proc/PID/fdinfo/N: a signalfd's signal
 * mask, an inotify's watches, an epoll's targets, an eventfd's count, a
 * timerfd's clock, a pidfd's process. Read while the process lives (at the
 * last sample); undefined for kinds fdinfo says nothing more about.
 */
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));

/** Signal names in a hex mask (bit n−1 is signal n). */
export function signalsInMask(hex: string): string[] {
  let mask = BigInt(`0x${hex}`);
  const out: string[] = [];
  for (let n = 1; mask > 0n; n++, mask >>= 1n) if (mask & 1n) out.push(SIGNAL_NAMES.get(n) ?? `signal ${n}`);
  return out;
}

/** One line about an fd from its fdinfo text (pure); undefined when there is nothing beyond pos and flags. */
export function describeFdinfo(text: string): string | undefined {
  const sigmask = /^sigmask:\s*([0-9a-f]+)/m.exec(text)?.[1];
  if (sigmask !== undefined) return `signalfd for ${signalsInMask(sigmask).join(', ') || 'no signal'}`;
  const watches = [...text.matchAll(/^inotify wd:(\S+) ino:(\S+) sdev:(\S+) mask:(\S+)/gm)];
  if (watches.length) return `inotify watching ${watches.length} inode${watches.length === 1 ? '' : 's'} (${watches.slice(0, 3).map((w) => `ino 0x${w[2]} on dev 0x${w[3]}`).join(', ')}${watches.length > 3 ? ', …' : ''})`;
  if (/^inotify /m.test(text) || /^fanotify /m.test(text)) return undefined;
  const targets = [...text.matchAll(/^tfd:\s*(\d+)/gm)].map((m) => m[1]);
  if (/^tfd:/m.test(text) || /^eventpoll/m.test(text)) return `epoll watching fd${targets.length === 1 ? '' : 's'} ${targets.slice(0, 8).join(', ')}${targets.length > 8 ? ', …' : ''}`;
  const count = /^eventfd-count:\s*(\S+)/m.exec(text)?.[1];
  if (count !== undefined) return `eventfd, count ${Number.parseInt(count, 16)}`;
  const clock = /^clockid:\s*(\d+)/m.exec(text)?.[1];
  if (clock !== undefined) return `timerfd on clock ${clock}${/^it_value: \(0, 0\)/m.test(text) ? ', disarmed' : ''}`;
  const pid = /^Pid:\s*(-?\d+)/m.exec(text)?.[1];
  if (pid !== undefined) return `pidfd of pid ${pid}`;
  return undefined;
}

/** Reads and describes /proc/PID/fdinfo/FD; undefined when gone or plain. */
export function readFdinfo(pid: number, fd: number, procRoot = '/proc'): string | undefined {
  try {
    return describeFdinfo(readFileSync(`${procRoot}/${pid}/fdinfo/${fd}`, 'utf8'));
  } catch {
    return undefined;
  }
}
