/** Pure parsers of /proc text (limits, status): no I/O, no native code, cheap to import at start-up. */
import type { FdLimits } from '../fdprobe/probe.js';

/** Parses the `Max open files` line of /proc/<pid>/limits. */
export function parseLimits(text: string): FdLimits {
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  if (!line) return { soft: null, hard: null };
  const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/);
  const num = (v: string | undefined) => (v === undefined || v === 'unlimited' ? null : Number(v));
  return { soft: num(soft), hard: num(hard) };
}

/** Parses VmRSS (KiB) from /proc/<pid>/status. */
export function parseRssKb(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** What a process does with one signal, from the SigBlk/SigIgn/SigCgt masks of /proc/<pid>/status. */
export type SignalDisposition = 'caught' | 'ignored' | 'blocked' | 'default';

export function parseSignalDisposition(status: string, signo: number): SignalDisposition {
  const has = (field: string) => {
    const hex = new RegExp(`^${field}:\\s+([0-9a-f]+)`, 'm').exec(status)?.[1];
    return hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(signo - 1)) & 1n) === 1n;
  };
  if (has('SigIgn')) return 'ignored';
  if (has('SigCgt')) return has('SigBlk') ? 'blocked' : 'caught';
  return has('SigBlk') ? 'blocked' : 'default';
}

