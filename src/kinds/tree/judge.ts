/**
 * The tree kind's judge (repro watch): with the survivors gate, leaks are the
 * fds each counted reload opened that were still open at the end, and growth
 * is shown as information; the rest are the shared fd checks.
 */
import type { Check, Expectation, LossClass, MeasuredRun, ReloadWindow, Verdict } from '../../model/run-document.js';
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

/** `12 refused, 3 reset` */
export function lostByWords(lostBy: ReloadWindow['lostBy']): string {
  return (Object.entries(lostBy) as [LossClass, number][])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${n} ${c}`)
    .join(', ');
}

/**
 * watch --url: the requests the reloads lost against --max-lost, naming each
 * window that lost some and by what class; and, so a pass is never about
 * load that did not flow, every reload's window carried requests.
 */
function reloadLoadChecks(run: MeasuredRun, e: Expectation): Check[] {
  const load = run.reloadLoad;
  if (!e.reloadLoad) return [];
  if (!load) return [{ id: 'reloads:lost', ok: false, text: 'requests not measured: the load never started (the program never answered at --url)' }];
  const losing = load.windows.filter((w) => w.lost > 0);
  const named = losing.slice(0, 6).map((w) => `${w.reload === 0 ? 'before the first signal' : `reload ${w.reload}`}: ${lostByWords(w.lostBy)}`);
  const where = losing.length === 0 ? '' : ` (${named.join('; ')}${losing.length > 6 ? `; ${losing.length - 6} more reloads` : ''})`;
  const expected = e.reloadLoad.expectLoss;
  const ofClass = expected === undefined ? 0 : load.windows.reduce((n, w) => n + (w.lostBy[expected] ?? 0), 0);
  const checks: Check[] = [
    expected === undefined
      ? { id: 'reloads:lost', ok: load.lost <= e.reloadLoad.maxLost, text: `${load.lost} of ${load.total} requests lost across ${load.signalsSent} reloads${where} (gate: ≤ ${e.reloadLoad.maxLost})` }
      : { id: 'reloads:lost', ok: ofClass > 0, text: `${load.lost} of ${load.total} requests lost across ${load.signalsSent} reloads${where} (expected: some ${expected})` },
  ];
  const idle = load.windows.filter((w) => w.reload > 0 && w.requests === 0).map((w) => w.reload);
  if (idle.length > 0) checks.push({ id: 'reloads:load', ok: false, text: `no request started in the window of reload${idle.length === 1 ? '' : 's'} ${idle.slice(0, 6).join(', ')}: the load did not flow through every reload, so a pass would say nothing` });
  return checks;
}

export function judgeTree(run: MeasuredRun, expectation: Expectation): Verdict {
  const m = run.measured;
  const informational: Check | undefined =
    expectation.gate === 'survivors' && run.survivors
      ? { id: 'growth', ok: true, text: `fds ${m.baselineFds} → ${m.finalFds}, growth ${fmt(m.growthPerReload)}/reload (information: leaks are judged by the fds that survive)` }
      : undefined;
  const load = reloadLoadChecks(run, expectation);
  const verdict = judgeFdRun(run, expectation, { growth: informational, afterGrowth: [...survivorsCheck(run, expectation), ...load] });
  // A lost request is a fact whatever else the run could not tell: exit 1, not 4. Load that did not flow tells nothing.
  const lostSeen = (run.reloadLoad?.lost ?? 0) > 0 && load.some((c) => c.id === 'reloads:lost' && (!c.ok || expectation.reloadLoad?.expectLoss !== undefined));
  const noLoad = load.some((c) => c.id === 'reloads:load' && !c.ok);
  if (lostSeen && verdict.inconclusive) return { pass: verdict.pass, checks: verdict.checks, expectation: verdict.expectation };
  if (noLoad && !lostSeen && !verdict.pass) return { ...verdict, inconclusive: true };
  return verdict;
}
