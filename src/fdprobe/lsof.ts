/** The lsof back end, for systems without procfs: `lsof -F` field output, parsed. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ProbeError } from './errors.js';
import { classifyTarget, type FdKind } from './kinds.js';
import type { FdEntry, FdLimits, FdProbe } from './probe.js';

const run = promisify(execFile);

const TYPE_KINDS: Record<string, FdKind> = {
  FIFO: 'pipe',
  PIPE: 'pipe',
  unix: 'unix',
  DIR: 'directory',
  CHR: 'device',
  BLK: 'device',
  KQUEUE: 'eventpoll',
};

function kindOf(type: string, name: string, protocol: string): FdKind {
  if (type === 'IPv4' || type === 'IPv6') return protocol === 'UDP' ? 'udp' : protocol === 'TCP' ? 'tcp' : 'socket';
  if (type === 'sock') return 'socket';
  if (type === 'a_inode') {
    // lsof writes `[eventfd:1]`, `[eventpoll:11,13]`, `inotify`: the kind is the leading word.
    const word = /^\[?([a-z_]+)/.exec(name)?.[1];
    return word ? classifyTarget(`anon_inode:${word}`) : 'other';
  }
  if (type === 'REG') return name.endsWith('(deleted)') ? 'deleted' : 'file';
  return TYPE_KINDS[type] ?? 'other';
}

/**
 * Parses `lsof -F ftPn` output: one field per line, the first character names
 * the field. Only numeric descriptors count (cwd, txt, mem are not open fds).
 */
export function parseLsofFields(output: string): FdEntry[] {
  const entries: FdEntry[] = [];
  let current: { fd: number; type: string; name: string; protocol: string } | undefined;
  const flush = () => {
    if (current) entries.push({ fd: current.fd, kind: kindOf(current.type, current.name, current.protocol), target: current.name });
    current = undefined;
  };
  for (const line of output.split('\n')) {
    const field = line[0];
    const value = line.slice(1);
    if (field === 'p') flush();
    else if (field === 'f') {
      flush();
      if (/^\d+$/.test(value)) current = { fd: Number(value), type: '', name: '', protocol: '' };
    } else if (current && field === 't') current.type = value;
    else if (current && field === 'n') current.name = value;
    else if (current && field === 'P') current.protocol = value;
  }
  flush();
  return entries.sort((a, b) => a.fd - b.fd);
}

export class LsofProbe implements FdProbe {
  readonly backend = 'lsof';

  constructor(private readonly command = 'lsof') {}

  async list(pid: number): Promise<FdEntry[]> {
    let stdout: string;
    try {
      ({ stdout } = await run(this.command, ['-n', '-P', '-w', '-a', '-d', '0-999999', '-p', String(pid), '-F', 'ftPn'], { maxBuffer: 64 * 1024 * 1024 }));
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stdout?: string; code?: string | number };
      if (e.code === 'ENOENT') throw new ProbeError('unsupported', pid, 'no procfs and no lsof: install lsof to probe fds here', { cause: error });
      // lsof exits 1 with empty output when the pid does not exist.
      if (!e.stdout) throw new ProbeError('gone', pid, `process ${pid} is gone`, { cause: error });
      stdout = e.stdout;
    }
    return parseLsofFields(stdout);
  }

  async count(pid: number): Promise<number> {
    return (await this.list(pid)).length;
  }

  async limits(_pid: number): Promise<FdLimits> {
    // No portable way to read another process's RLIMIT_NOFILE without procfs.
    return { soft: null, hard: null };
  }

  async rssKb(pid: number): Promise<number | undefined> {
    try {
      const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
      const kb = Number(stdout.trim());
      return Number.isFinite(kb) && stdout.trim() !== '' ? kb : undefined;
    } catch {
      return undefined;
    }
  }
}
