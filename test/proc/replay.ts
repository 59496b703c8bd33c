/** Replays one recorded `repro watch` run through the tree rules: delivery then completion for every reload and the final drain. */
import type { IdleBaseline, IdleSite } from '../../src/harness/tree/completion.js';
import { awaitReloadFinished, type ReloadFinished } from '../../src/harness/tree/completion.js';
import { awaitDelivery, type DeliveryResult } from '../../src/harness/tree/delivery.js';
import { RecordedView } from '../../src/proc/recorded.js';

export interface ReplayedReload {
  /** `reload 2` or `the final drain`. */
  phase: string;
  delivery?: DeliveryResult['outcome'];
  completion: ReloadFinished;
}

export interface Baseline {
  rootPid: number;
  includeRoot: boolean;
  target: number;
  settleMs: number;
  confirmMs: number;
  timeoutMs: number;
  idle: [number, IdleSite][];
}

export function load(name: string): { view: RecordedView; baseline: Baseline; idle: IdleBaseline } {
  const view = RecordedView.load(new URL(`../fixtures/traces/${name}.ndjson.gz`, import.meta.url).pathname);
  const baseline = view.marks('baseline')[0]?.data as unknown as Baseline;
  return { view, baseline, idle: new Map(baseline.idle) };
}

/** Every reload of the trace (and the final drain) through awaitDelivery and awaitReloadFinished on the recorded view. */
export async function replay(name: string, idleOf: (idle: IdleBaseline) => IdleBaseline = (idle) => idle): Promise<ReplayedReload[]> {
  const { view, baseline, idle } = load(name);
  // Traces with each thread's SigBlk at the baseline were recorded with the in-handler check (SIGHUP): replay it.
  const withSigno = [...idle.values()].some((site) => site.sigBlk !== undefined);
  const out: ReplayedReload[] = [];
  for (const mark of view.marks()) {
    if (mark.what !== 'signal' && mark.what !== 'drain') continue;
    const reload = mark.data['reload'] as number;
    view.seek(mark);
    const sentAt = view.now();
    const delivery = mark.what === 'signal' ? (await awaitDelivery(baseline.target, 'SIGHUP', { view, timeoutMs: 1000 })).outcome : undefined;
    const completion = await awaitReloadFinished({
      rootPid: baseline.rootPid,
      includeRoot: baseline.includeRoot,
      view,
      baseline: idleOf(new Map([...idle].map(([tid, site]) => [tid, { ...site, syscalls: [...site.syscalls] }]))),
      reload,
      settleMs: baseline.settleMs,
      confirmMs: baseline.confirmMs,
      timeoutMs: baseline.timeoutMs,
      signalSentAtMs: sentAt,
      pollMs: 2,
      // Traces since issue 18 note how each reload was known finished (reload 1 calibrates, the later ones have a floor).
      ...(mark.data['calibrate'] === true ? { calibrate: true } : {}),
      ...(typeof mark.data['minMs'] === 'number' ? { minMs: mark.data['minMs'] } : {}),
      ...(withSigno ? { signo: 1 } : {}),
    });
    out.push({ phase: mark.what === 'signal' ? `reload ${reload}` : 'the final drain', ...(delivery ? { delivery } : {}), completion });
  }
  return out;
}
