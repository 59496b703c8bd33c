/** The view of a watched tree (`repro watch`): the program's name, its rows, its survivors. Pure. */
import type { LossClass, RunDocument } from '../../model/run-document.js';
import { lostByWords } from './judge.js';
import { shellCommand } from '../../report/text.js';
import { fdGrowthSentence, programLabel } from '../shared/fd-facts.js';
import type { KindView } from '../view.js';
import { watchRows, watchTitle } from './facts.js';

/** What a watched program is expected to show: its gate's words, which `repro report --max-growth` may have changed since they were written. */
export function gateExpectation(run: RunDocument): string {
  const e = run.verdict.expectation;
  if (e.fdsPerReload !== 0 || e.drain) return e.shows;
  const lost = e.reloadLoad ? (e.reloadLoad.expectLoss ? `, requests ${e.reloadLoad.expectLoss} in reloads` : `, requests lost in reloads ≤ ${e.reloadLoad.maxLost}`) : '';
  return `${e.gate === 'survivors' ? 'fds surviving' : 'fd growth'} ≤ ${e.maxGrowth}/reload and no EMFILE${lost}`;
}

export const treeView: KindView = {
  title: watchTitle,
  label: programLabel,
  rows: watchRows,
  compareRows: () => undefined,
  expectation: gateExpectation,
  inOneBreath: (run) => {
    const load = run.reloadLoad;
    if (!load) return undefined;
    const classes = lostByWords(Object.fromEntries(['refused', 'reset', '5xx', 'timeout', 'cut'].map((c) => [c, load.windows.reduce((n, w) => n + (w.lostBy[c as LossClass] ?? 0), 0)])));
    return `${run.role} ${load.lost === 0 ? 'loses none' : `loses ${load.lost} (${classes})`} of ${load.total} requests over ${load.signalsSent} reloads`;
  },
  failureSentence: fdGrowthSentence,
  requests: () => undefined,
  streamHeadings: () => ({ stderr: 'program stderr:', stdout: 'program stdout:' }),
  attribution: () => ({ title: 'where the survivors came from', what: 'surviving fds', noneInOneLine: false }),
  junitClass: (run) => `repro.watch.${programLabel(run)}`,
  suiteName: (run) => `repro watch ${shellCommand(run.command)}`,
  junitFailure: () => undefined,
  // Older documents of watched trees carry no survivors: their growth is what was gated.
  baselineMeasure: (run) => (run.survivors ? { measure: 'survivors', value: run.survivors.survivorsPerReload } : { measure: 'growth', value: run.measured.growthPerReload }),
};
