/** `repro probe <pid>`: what a process holds now, or over time with --watch. */
import { countKinds } from '../../fdprobe/kinds.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import type { ProbeSnapshot } from '../../model/probe-snapshot.js';
import { translateProbeError } from '../preflight.js';

export type { ProbeSnapshot };

/** One snapshot of pid's fds through `probe` (the caller picks it: workingProbe() in the full CLI, procfs on the fast path). */
export async function probeOnce(pid: number, probe: FdProbe): Promise<ProbeSnapshot> {
  try {
    const fds = await probe.list(pid);
    const limits = await probe.limits(pid);
    return {
      schemaVersion: 1,
      kind: 'probe',
      pid,
      takenAt: new Date().toISOString(),
      backend: probe.backend,
      count: fds.length,
      byKind: countKinds(fds.map((f) => f.kind)),
      limits,
      headroom: limits.soft === null ? null : limits.soft - fds.length,
      rssKb: (await probe.rssKb(pid)) ?? null,
      fds,
    };
  } catch (error) {
    translateProbeError(error, pid);
  }
}
