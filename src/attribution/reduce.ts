/**
 * Survivors matched with their records → the groups every view shows (pure):
 * "k per reload from SYSCALL(args) in pid P (command), first at reload r,
 * still open", with the stack's own frames and what fdinfo says.
 */
import { countKinds, type FdKind } from '../fdprobe/kinds.js';
import { type Attribution, type AttributionGroup, type AttributionOrigin, MAX_ATTRIBUTION_GROUPS } from '../model/run-document.js';
import { round } from '../model/stats.js';
import type { Resolution } from './tracker.js';

export interface ReduceInput {
  resolutions: readonly Resolution[];
  /** Reloads done: the per-reload rate divides by it. */
  reloads: number;
  /** What /proc/PID/fdinfo said, by `pid:fd` (read while the process lived). */
  fdinfo?: ReadonlyMap<string, string>;
  tracer: string;
  stacks: boolean;
  trace: Attribution['trace'];
  note?: string;
}

/** Groups the resolutions: by process, origin and call site; most fds first. */
export function reduceAttribution(input: ReduceInput): Attribution {
  const groups = new Map<string, { group: AttributionGroup; kinds: FdKind[] }>();
  for (const r of input.resolutions) {
    const s = r.survivor;
    const record = r.record;
    const origin: AttributionOrigin = record ? (record.received ? 'scm-rights' : 'call') : (r.reason ?? 'before-tracing');
    const key = record ? `${s.pid}\0${origin}\0${siteKey(record.site)}` : `${s.pid}\0${origin}`;
    let entry = groups.get(key);
    if (!entry) {
      const site = record?.site;
      entry = {
        kinds: [],
        group: {
          pid: s.pid,
          command: r.command ?? record?.command ?? '',
          origin,
          ...(record ? { syscall: record.syscall, args: record.args, createdAtReload: record.reload } : {}),
          ...(record?.inheritedFrom !== undefined ? { createdInPid: record.creatorPid } : {}),
          count: 0,
          perReload: 0,
          firstReload: s.reload,
          kinds: {},
          fds: [],
          frames: (site?.frames ?? []).map((f) => ({ symbol: f.symbol, object: f.object })),
          frameOrigin: site?.origin ?? 'none',
          foldedFrames: site?.folded ?? 0,
          ...(site?.pool ? { workerPool: site.pool } : {}),
          ...(input.fdinfo?.get(`${s.pid}:${s.fd}`) ? { fdinfo: input.fdinfo.get(`${s.pid}:${s.fd}`) } : {}),
        },
      };
      groups.set(key, entry);
    }
    const g = entry.group;
    g.count++;
    entry.kinds.push(s.kind as FdKind);
    if (s.reload < g.firstReload) g.firstReload = s.reload;
    if (record && (g.createdAtReload === undefined || record.reload < g.createdAtReload)) g.createdAtReload = record.reload;
    if (g.fds.length < 8) g.fds.push(s.fd);
  }
  const all = [...groups.values()]
    .map(({ group, kinds }) => ({ ...group, kinds: countKinds(kinds), fds: [...group.fds].sort((a, b) => a - b), perReload: input.reloads > 0 ? round(group.count / input.reloads) : 0 }))
    .sort((a, b) => b.count - a.count || a.pid - b.pid || a.firstReload - b.firstReload);
  const attributed = input.resolutions.filter((r) => r.record && !r.record.received).length;
  return {
    tracer: input.tracer,
    stacks: input.stacks,
    survivors: input.resolutions.length,
    attributed,
    groups: all.slice(0, MAX_ATTRIBUTION_GROUPS),
    groupsNotShown: Math.max(0, all.length - MAX_ATTRIBUTION_GROUPS),
    trace: input.trace,
    ...(input.note ? { note: input.note } : {}),
  };
}

function siteKey(site: { syscall: string; pool?: string; frames: { object: string; symbol: string }[] }): string {
  return `${site.syscall}${site.pool ? ` [${site.pool}]` : ''}\n${site.frames.map((f) => `${f.object}(${f.symbol})`).join('\n')}`;
}
