/**
 * The tree kind's judge (repro watch): with the survivors gate, leaks are the
 * fds each counted reload opened that were still open at the end, and growth
 * is shown as information; the rest are the shared fd checks.
 */
import type { Check, Expectation, MeasuredRun, Verdict } from '../../model/run-document.js';
import { fmt, judgeFdRun } from '../shared/fd-judge.js';

/** The fds each counted reload opened that were still open at the end, per reload, against the gate. */
function survivorsCheck(run: MeasuredRun, e: Expectation): Check[] {
  const s = run.survivors;
  if (e.gate !== 'survivors' || !s) return [];
  const kinds = Object.entries(s.survivedKinds).map(([k, n]) => `${n} ${k}`).join(', ');
  // Where they are: one process, or each of several (two forked workers leaking alike hold half each).
  const holders = (s.byProcess ?? []).filter((p) => p.survived > 0);
  const where =
    s.survivorsCounted === 0
      ? ''
      : holders.length > 1
        ? ` in ${holders.length} processes: ${holders.slice(0, 3).map((p) => `pid ${p.pid} ${p.survived}`).join(', ')}${holders.length > 3 ? ', …' : ''}`
        : run.tree?.grew
          ? ` in pid ${run.tree.grew.pid}`
          : '';
  const span = s.reloadsCounted === 1 ? 'reload 1' : `reloads 1–${s.reloadsCounted}`;
  return [
    {
      id: 'survivors',
      ok: s.survivorsPerReload <= e.maxGrowth,
      text: `${fmt(s.survivorsPerReload)} fds/reload still open at the end, over ${span}${kinds ? ` (${kinds}${where})` : ''} (gate: ≤ ${e.maxGrowth})`,
    },
  ];
}

export function judgeTree(run: MeasuredRun, expectation: Expectation): Verdict {
  const m = run.measured;
  const informational: Check | undefined =
    expectation.gate === 'survivors' && run.survivors
      ? { id: 'growth', ok: true, text: `fds ${m.baselineFds} → ${m.finalFds}, growth ${fmt(m.growthPerReload)}/reload (information: leaks are judged by the fds that survive)` }
      : undefined;
  return judgeFdRun(run, expectation, { growth: informational, afterGrowth: survivorsCheck(run, expectation) });
}
