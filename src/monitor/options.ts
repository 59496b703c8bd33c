/**
 * What `repro monitor` and `repro rules` take, and the parsers that turn a
 * flag's text into it: each names the flag and the fix when a value is off.
 */
import { lstatSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { EnvironmentError, UsageError } from '../errors.js';

/** How processes are picked, each kept as the user wrote it (it is the `match` label). */
export interface Selectors {
  /** --pid: these pids, for as long as they live (a pid is not followed to a new process). */
  pids: number[];
  /** --match: processes whose command line (argv joined by spaces) matches; new pids that match are picked up. */
  matches: RegExp[];
  /** --cgroup: every process in these cgroup directories (their cgroup.procs), read again at each collection. */
  cgroups: string[];
}

/** Where the exposition goes: the HTTP listener, the textfile, or both. */
export interface MonitorOutputs {
  /** --listen: loopback address and port to serve /metrics on (port 0 picks a free one). */
  listen?: { host: string; port: number };
  /** --textfile: the .prom file replaced atomically after every collection. */
  textfile?: string;
}

/** Everything `repro monitor` runs on. */
export interface MonitorOptions extends Selectors, MonitorOutputs {
  /** --interval: time between two collections, in ms. */
  intervalMs: number;
  /** --age: an fd open at least this long counts as old (a survivor), in ms. */
  ageMs: number;
  /** --log: a log file the service writes, followed like tail -F for reload lines. */
  log?: string;
  /** --reload-pattern: a line of --log that matches it is one reload. */
  reloadPattern?: RegExp;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Prometheus writes one (500ms, 30s, 5m, 2h; a bare number is
 * seconds), in ms within [minMs, maxMs]. Parsed where the command checks its
 * options, not as a commander argument parser: a duration is a number with a
 * unit, not one of the plain numbers every numeric option takes.
 */
export function parseDuration(flag: string, value: string, minMs: number, maxMs: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * (UNITS_MS[m[2] ?? 's'] as number) : Number.NaN;
  if (!Number.isFinite(ms) || ms < minMs || ms > maxMs) {
    throw new UsageError(`${flag} takes a duration such as 500ms, 30s, 10m or 2h (from ${formatDuration(minMs)} to ${formatDuration(maxMs)}), got '${value}'.`);
  }
  return Math.round(ms);
}

/** A duration in ms as Prometheus reads one (rules' `for:` and range selectors take whole units). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0 && ms >= size) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** A regular expression, refused with the engine's own reason when it does not compile. */
export function regex(flag: string) {
  return (value: string): RegExp => {
    if (value === '') throw new InvalidArgumentError(`${flag} needs a regular expression; an empty one would match every process`);
    try {
      return new RegExp(value);
    } catch (error) {
      throw new InvalidArgumentError(`${flag} '${value}' is not a valid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')}); escape special characters such as ( [ + with a backslash`);
    }
  };
}

/** Why loopback only: the exposition names processes and what they hold, and repro has no authentication. */
const LOOPBACK_WHY = 'repro monitor serves on loopback only (its metrics name processes and no one authenticates a scrape)';

/** HOST:PORT (or [::1]:PORT) on a loopback address. */
export function listenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const host = m ? ((m[1] ?? m[2]) as string) : '';
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65_535) throw new InvalidArgumentError(`--listen takes HOST:PORT such as 127.0.0.1:9464, got '${value}'.`);
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (!loopback) throw new InvalidArgumentError(`--listen ${value}: ${LOOPBACK_WHY}; use 127.0.0.1:${port}, and node_exporter's textfile (--textfile) or a local Prometheus agent for remote scrapes.`);
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

/** The textfile as node_exporter's collector reads it: a `.prom` regular file (or a new one) in an existing directory. */
export function checkTextfile(path: string): string {
  const flag = '--textfile';
  if (!path.endsWith('.prom') || basename(path) === '.prom') throw new UsageError(`${flag} ${path}: node_exporter's textfile collector reads only *.prom files; name it like DIR/repro.prom`);
  const full = resolve(path);
  let stats;
  try {
    stats = lstatSync(full);
  } catch {
    stats = undefined;
  }
  if (stats && !stats.isFile()) {
    const what = stats.isSymbolicLink() ? 'a symbolic link' : stats.isFIFO() ? 'a FIFO' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : stats.isDirectory() ? 'a directory' : 'not a regular file';
    throw new UsageError(`${flag} ${path}: is ${what}, and the textfile is replaced by rename, never written through; give the path of a regular .prom file in node_exporter's textfile directory`);
  }
  let dir;
  try {
    dir = statSync(dirname(full));
  } catch {
    dir = undefined;
  }
  if (!dir?.isDirectory()) throw new EnvironmentError(`${flag} ${path}: its directory ${dirname(full)} does not exist; create it or give node_exporter's --collector.textfile.directory`);
  return full;
}

/** The options that make sense only together, and the one thing monitor needs: something to watch and somewhere to put it. */
export function checkMonitorOptions(options: MonitorOptions): void {
  if (options.pids.length + options.matches.length + options.cgroups.length === 0) {
    throw new UsageError('repro monitor needs processes to watch: give --pid PID, --match REGEX or --cgroup PATH (each may be repeated)');
  }
  if (!options.listen && !options.textfile) throw new UsageError('repro monitor needs somewhere to put its metrics: give --listen 127.0.0.1:PORT, --textfile DIR/repro.prom, or both');
  if (options.log !== undefined && !options.reloadPattern) throw new UsageError(`--log ${options.log} needs --reload-pattern REGEX, the line that says a reload happened (nginx: 'signal 1 \\(SIGHUP\\) received')`);
  if (options.reloadPattern && options.log === undefined) throw new UsageError('--reload-pattern needs --log FILE, the log the service writes its reload lines to');
}
