/**
 * The view of a server under load across a shutdown (graceful-drain, `repro
 * drain`): its ledger rows and sentences. A run that ended before any load has
 * no ledger: it reads as what it came from, a scenario's role or a program. Pure.
 */
import type { RunDocument } from '../../model/run-document.js';
import { shellCommand, visibleLine } from '../../report/text.js';
import { commandInTitle } from '../shared/fd-facts.js';
import { roleView } from '../shared/role-view.js';
import { treeView } from '../tree/view.js';
import type { KindView } from '../view.js';
import { drainCompareRows, drainFailureMessage, drainRunRows, isDrainRun, lostSentence } from './facts.js';

/** `repro drain` runs a program (its role is `watch`); graceful-drain a scenario's role. */
const origin = (run: RunDocument): KindView => (run.roleKind === 'watch' ? treeView : roleView);

/** A `repro drain` run that has its ledger. */
const drainCommand = (run: RunDocument) => isDrainRun(run) && run.roleKind === 'watch';

export const drainView: KindView = {
  title: (run, commandWidth) =>
    drainCommand(run) && run.drain ? `repro drain · ${commandInTitle(run.command, commandWidth)} · ${run.signal} · lag ${run.drain.plan.lagMs} ms · grace ${run.drain.plan.graceMs} ms` : origin(run).title(run, commandWidth),
  label: (run) => origin(run).label(run),
  rows: (run) => (isDrainRun(run) ? drainRunRows(run) : origin(run).rows(run)),
  compareRows: (runs) => (runs.every(isDrainRun) ? drainCompareRows() : undefined),
  expectation: (run) => origin(run).expectation(run),
  inOneBreath: (run) => (isDrainRun(run) ? `${run.role} ${run.drain.ledger.lost === 0 ? 'loses none' : `loses ${run.drain.ledger.lost}`} of ${run.drain.ledger.total}` : undefined),
  failureSentence: (run) => (isDrainRun(run) ? lostSentence(run.drain.ledger) : origin(run).failureSentence(run)),
  requests: (run) => run.drain,
  streamHeadings: (run) => origin(run).streamHeadings(run),
  attribution: (run) => origin(run).attribution(run),
  junitClass: (run) => (drainCommand(run) ? 'repro.drain' : origin(run).junitClass(run)),
  suiteName: (run) => (drainCommand(run) ? `repro drain ${shellCommand(run.command)}` : origin(run).suiteName(run)),
  junitFailure: (run) => (isDrainRun(run) ? { message: visibleLine(drainFailureMessage(run)), type: 'request-loss' } : undefined),
  baselineMeasure: (run) => (run.drain ? { measure: 'lost', value: run.drain.ledger.lost } : origin(run).baselineMeasure(run)),
};
