/**
 * Reads a version 1 run document as version 2: the pattern becomes the role,
 * the channel a scenario option, `listeners` a metric, the verdict's numbers
 * the measurements, and its reason sentences checks. The expectation is the
 * one v1 judged by (its thresholds read back from the reasons where they are
 * written there). Pure; `repro report` renders the result like any v2 run.
 */
import type { KindCounts } from '../fdprobe/kinds.js';
import type { Check, CompareDocument, Expectation, KeptOutput, ReproDocument, RunDocument, Sample } from './run-document.js';
import { SCHEMA_VERSION } from './run-document.js';

/** The v1 shapes, as far as conversion reads them (the v1 schema has checked the rest). */
interface V1Sample extends Omit<Sample, 'metrics'> {
  listeners?: number;
}
interface V1Verdict {
  pass: boolean;
  inconclusive?: boolean;
  reasons: string[];
  baselineFds: number;
  finalFds: number;
  growthPerReload: number;
  growthByKind: KindCounts;
  emfileAtReload: number | null;
  registerFailure: string | null;
  predictedEmfileAtReload: number | null;
  signalHandling: 'alive' | 'dead' | 'not-checked';
  listenersStart: number | null;
  listenersEnd: number | null;
  reloadsDone: number;
  latencyMs: { p50: number | null; p99: number | null };
  rssKb: { start: number | null; end: number | null };
}
export interface V1Run {
  schemaVersion: 1;
  kind: 'run';
  scenario: string;
  pattern: 'broken' | 'correct' | 'watch';
  channel: string;
  ulimit: number;
  samples: V1Sample[];
  verdict: V1Verdict;
  stdout: KeptOutput;
  stderr: KeptOutput;
  [field: string]: unknown;
}
export interface V1Compare {
  schemaVersion: 1;
  kind: 'compare';
  startedAt: string;
  runs: { broken: V1Run; correct: V1Run };
  verdict: { pass: boolean; reasons: string[] };
  wallMs: number;
  baseline?: unknown;
}

const FDS_PER_CHANNEL: Record<string, number> = { pipe: 2, signalfd: 1 };

function checksOf(reasons: readonly string[], prefix: string): Check[] {
  return reasons.map((reason, i) => {
    const ok = !reason.startsWith('FAIL');
    return { id: `${prefix}${i + 1}`, ok, text: reason.replace(/^(ok|FAIL): /, '') };
  });
}

/** The gate a v1 run was judged with, from its own words ("flat means ≤ 0.01", "gate: ≤ 0.1"). */
function gateIn(reasons: readonly string[], fallback: number): number {
  for (const r of reasons) {
    const match = /(?:flat means|gate:) ≤ ([\d.]+)/.exec(r);
    if (match) return Number(match[1]);
  }
  return fallback;
}

function expectationOf(run: V1Run): Expectation {
  const base = { flatMetrics: [] as string[], growingMetrics: [] as string[], earlyIsInconclusive: false };
  if (run.pattern === 'broken') {
    return { ...base, shows: 'the broken pattern leaks until EMFILE and then stops reloading', fdsPerReload: FDS_PER_CHANNEL[run.channel] ?? 2, maxGrowth: 0.01, registerFailure: 'expected', afterFailure: 'dead', allReloads: false };
  }
  if (run.pattern === 'correct') {
    return { ...base, shows: 'the correct pattern stays flat', fdsPerReload: 0, maxGrowth: gateIn(run.verdict.reasons, 0.01), registerFailure: 'forbidden', flatMetrics: ['listeners'], allReloads: true };
  }
  const maxGrowth = typeof run.maxGrowthPerReload === 'number' ? run.maxGrowthPerReload : gateIn(run.verdict.reasons, 0.1);
  return { ...base, shows: `no fd growth per reload (gate: ≤ ${maxGrowth} fd/reload)`, fdsPerReload: 0, maxGrowth, registerFailure: 'forbidden', allReloads: false, earlyIsInconclusive: true };
}

function convertRun(run: V1Run): RunDocument {
  const { pattern, channel, verdict: v, samples, schemaVersion: _v, maxGrowthPerReload: _gate, ...rest } = run;
  const protocol = pattern !== 'watch';
  const converted = {
    ...(rest as unknown as Omit<RunDocument, 'role' | 'roleKind' | 'runtime' | 'options' | 'metrics' | 'samples' | 'measured' | 'verdict'>),
    schemaVersion: SCHEMA_VERSION,
    // Version 1 knew two kinds: protocol reloads and watch.
    ...(protocol ? { measurement: 'reloads' as const } : { measurement: 'tree' as const }),
    role: pattern,
    roleKind: pattern,
    runtime: protocol ? 'node' : '-',
    options: protocol ? { channel } : {},
    metrics: protocol ? [{ id: 'listeners', label: 'listeners', unit: '', description: 'signal listeners the child reported (from a version 1 document)' }] : [],
    samples: samples.map(({ listeners, ...s }) => (listeners === undefined ? s : { ...s, metrics: { listeners } })),
    measured: {
      baselineFds: v.baselineFds,
      finalFds: v.finalFds,
      growthPerReload: v.growthPerReload,
      growthByKind: v.growthByKind,
      emfileAtReload: v.emfileAtReload,
      registerFailure: v.registerFailure,
      predictedEmfileAtReload: v.predictedEmfileAtReload,
      signalHandling: v.signalHandling,
      reloadsDone: v.reloadsDone,
      latencyMs: v.latencyMs,
      rssKb: v.rssKb,
      metrics: protocol ? { listeners: { start: v.listenersStart, end: v.listenersEnd, growthPerReload: 0 } } : {},
    },
    verdict: { pass: v.pass, ...(v.inconclusive ? { inconclusive: true } : {}), checks: checksOf(v.reasons, 'v1:'), expectation: expectationOf(run) },
  } as RunDocument;
  return converted;
}

/** A version 1 document (already checked against the v1 schema) as version 2. */
export function convertV1(doc: V1Run | V1Compare): ReproDocument {
  if (doc.kind === 'run') return convertRun(doc);
  const runs = [convertRun(doc.runs.broken), convertRun(doc.runs.correct)];
  const compare: CompareDocument = {
    schemaVersion: SCHEMA_VERSION,
    kind: 'compare',
    scenario: doc.runs.broken.scenario,
    runtime: 'node',
    startedAt: doc.startedAt,
    runs,
    verdict: { pass: doc.verdict.pass, checks: checksOf(doc.verdict.reasons, 'v1:') },
    wallMs: doc.wallMs,
    ...(doc.baseline ? { baseline: doc.baseline as CompareDocument['baseline'] } : {}),
  };
  return compare;
}
