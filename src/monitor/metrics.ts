/**
 * The exporter's metric families, built from one collection's readings: the
 * table of what `repro monitor` exports (docs/monitor.md lists it for users).
 * Per process, labels pid, command (stat's comm) and match (the selector
 * that picked it); kinds and signals add one label each, and only kinds held
 * and signals set are written, so a process adds a few dozen series at most.
 */
import { FD_KINDS } from '../proc/fd-kinds.js';
import { formatDuration } from './options.js';
import { signalName, type Family, type Sample } from './exposition.js';
import type { ProcessReading } from './readings.js';

/** One collection, as the families are built from it. */
export interface Collection {
  /** Every process read. */
  readings: ProcessReading[];
  /** Processes picked per selector (the `match` label), 0 included: a service that is down shows as 0. */
  perMatch: Map<string, number>;
  /** Processes past the cap, not read. */
  dropped: number;
  /** Processes picked but gone or unreadable when read, this collection. */
  unreadable: number;
  /** Reload lines read from --log so far; undefined without --log. */
  reloads: number | undefined;
  /** How long the collection took, in seconds. */
  durationSeconds: number;
  /** Collections so far, this one included. */
  collections: number;
  /** Processes found unreadable over all collections. */
  unreadableTotal: number;
  /** The exporter's own RSS, in bytes. */
  selfRssBytes: number;
  /** --age, in ms (said in a help line). */
  ageMs: number;
}

const labelsOf = (r: ProcessReading, extra: Record<string, string> = {}) => ({ pid: String(r.target.pid), command: r.target.comm, match: r.target.match, ...extra });

function perProcess(c: Collection, value: (r: ProcessReading) => number | null): Sample[] {
  const out: Sample[] = [];
  for (const r of c.readings) {
    const v = value(r);
    if (v !== null) out.push({ labels: labelsOf(r), value: v });
  }
  return out;
}

function processFamilies(c: Collection): Family[] {
  const kinds: Sample[] = [];
  const caught: Sample[] = [];
  const blocked: Sample[] = [];
  for (const r of c.readings) {
    for (const kind of FD_KINDS) if (r.fdsByKind[kind] > 0) kinds.push({ labels: labelsOf(r, { kind }), value: r.fdsByKind[kind] });
    for (const n of r.caughtSignals) caught.push({ labels: labelsOf(r, { signal: signalName(n) }), value: 1 });
    for (const n of r.blockedSignals) blocked.push({ labels: labelsOf(r, { signal: signalName(n) }), value: 1 });
  }
  const families: Family[] = [
    { name: 'repro_process_open_fds', type: 'gauge', help: 'Open file descriptors.', samples: perProcess(c, (r) => r.openFds) },
    { name: 'repro_process_max_fds', type: 'gauge', help: 'Soft limit on open file descriptors (RLIMIT_NOFILE); absent when unlimited.', samples: perProcess(c, (r) => r.maxFds) },
    { name: 'repro_process_open_fds_by_kind', type: 'gauge', help: 'Open file descriptors by kind (pipe, unix, tcp, signalfd, eventfd, file...); kinds with none are left out.', samples: kinds },
    { name: 'repro_process_old_fds', type: 'gauge', help: `Open file descriptors first seen at least ${formatDuration(c.ageMs)} ago (--age) and still open.`, samples: perProcess(c, (r) => r.oldFds) },
    { name: 'repro_process_signal_caught', type: 'gauge', help: '1 for each signal the process has a handler for (SigCgt).', samples: caught },
    { name: 'repro_process_signal_blocked', type: 'gauge', help: '1 for each signal the process blocks (SigBlk of its main thread).', samples: blocked },
    { name: 'repro_process_threads', type: 'gauge', help: 'Threads of the process.', samples: perProcess(c, (r) => r.threads) },
    { name: 'repro_process_resident_memory_bytes', type: 'gauge', unit: 'bytes', help: 'Resident set size (VmRSS).', samples: perProcess(c, (r) => r.rssBytes) },
  ];
  if (c.reloads !== undefined) {
    families.push(
      { name: 'repro_reloads', type: 'counter', help: 'Reload lines read from --log (matching --reload-pattern) since the exporter started.', samples: [{ labels: {}, value: c.reloads }] },
      {
        name: 'repro_process_reload_survivor_fds',
        type: 'gauge',
        help: 'Open file descriptors first seen after a reload the process went through, and still open after a later reload.',
        samples: perProcess(c, (r) => r.reloadSurvivorFds),
      },
    );
  }
  return families;
}

function selfFamilies(c: Collection): Family[] {
  return [
    { name: 'repro_monitor_scrape_duration_seconds', type: 'gauge', unit: 'seconds', help: 'How long the last collection of every process took.', samples: [{ labels: {}, value: c.durationSeconds }] },
    { name: 'repro_monitor_processes', type: 'gauge', help: 'Processes read at the last collection.', samples: [{ labels: {}, value: c.readings.length }] },
    { name: 'repro_monitor_matched_processes', type: 'gauge', help: 'Processes picked per selector (--pid, --match, --cgroup) at the last collection; 0 when none.', samples: [...c.perMatch].map(([match, n]) => ({ labels: { match }, value: n })) },
    { name: 'repro_monitor_dropped_processes', type: 'gauge', help: 'Processes picked but not read at the last collection, past the cap on processes.', samples: [{ labels: {}, value: c.dropped }] },
    { name: 'repro_monitor_collections', type: 'counter', help: 'Collections since the exporter started.', samples: [{ labels: {}, value: c.collections }] },
    { name: 'repro_monitor_unreadable_processes', type: 'counter', help: 'Processes picked that were gone or unreadable when read.', samples: [{ labels: {}, value: c.unreadableTotal }] },
    { name: 'repro_monitor_resident_memory_bytes', type: 'gauge', unit: 'bytes', help: "The exporter's own resident set size.", samples: [{ labels: {}, value: c.selfRssBytes }] },
  ];
}

/** Every family of one collection, process metrics first. */
export function familiesOf(c: Collection): Family[] {
  return [...processFamilies(c), ...selfFamilies(c)];
}
