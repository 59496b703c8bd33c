/**
 * The view of a ledger run (queue-drain, state-on-shutdown): its entries
 * handed out, acknowledged and lost by cause, and how the process ended. A
 * run that ended before any entry reads as the scenario's role it is. Pure.
 */
import type { LedgerRun, RunDocument } from '../../model/run-document.js';
import { visibleLine } from '../../report/text.js';
import { roleView } from '../shared/role-view.js';
import type { CompareRow, KindView } from '../view.js';
import { failureSentence, ledgerFailure } from './judge.js';

type WithLedger = LedgerRun & { ledger: NonNullable<LedgerRun['ledger']> };

const hasLedger = (run: RunDocument): run is WithLedger => run.measurement === 'ledger' && run.ledger !== undefined;

const units = (run: WithLedger) => `${run.ledger.unit}s`;

function ledgerRows(run: WithLedger): [string, string][] {
  const { entries, ending, plan } = run.ledger;
  const rows: [string, string][] = [
    [units(run), `${entries.handedOut} handed out, ${entries.acknowledged} ${run.ledger.kept}, ${entries.lost} lost`],
    ['at the signal', `sent after ${plan.signalAfter} handed out; ${entries.outAtSignal} in flight, ${entries.handedOutAfterSignal} handed out after it`],
    ['ending', `${ledgerFailure(run.ledger)}: ${failureSentence(run.ledger)}`],
  ];
  if (ending.exitMs !== undefined) rows.push(['exit', `${ending.exitMs} ms after the signal`]);
  const latency = run.ledger.latency;
  if (latency) {
    rows.push(['latency bound', `${latency.boundMs ?? 'none'} ms: ${latency.boundRule} (quiet ${latency.quietMs ?? '?'} ms; ${latency.quietOverBound} of ${latency.quietInstants} quiet instants over it)`]);
    rows.push(['per signal', `${latency.perSignal.map((p) => `${p.inFlightMs ?? '-'}${p.stalled ? '✗' : ''}`).join(' ')} ms in flight at each (✗ stalled: ${latency.stalledSignals} of ${latency.signals})`]);
  }
  for (const c of entries.causes) rows.push(['lost', `${c.count} × ${c.cause}`]);
  if (entries.otherLost > 0) rows.push(['lost', `${entries.otherLost} × other causes`]);
  return rows;
}

const COMPARE_ROWS: CompareRow[] = [
  ['handed out', (r) => (hasLedger(r) ? String(r.ledger.entries.handedOut) : '-')],
  ['lost', (r) => (hasLedger(r) ? String(r.ledger.entries.lost) : '-')],
  ['ending', (r) => (hasLedger(r) ? ledgerFailure(r.ledger) : '-')],
];

export const ledgerView: KindView = {
  ...roleView,
  rows: (run) => (hasLedger(run) ? ledgerRows(run) : roleView.rows(run)),
  compareRows: (runs) => (runs.every(hasLedger) ? COMPARE_ROWS : undefined),
  inOneBreath: (run) => (hasLedger(run) ? `${run.role} ${run.ledger.entries.lost === 0 ? 'loses none' : `loses ${run.ledger.entries.lost}`} of ${run.ledger.entries.handedOut} ${units(run)}` : undefined),
  failureSentence: (run) => (hasLedger(run) ? failureSentence(run.ledger) : roleView.failureSentence(run)),
  junitFailure: (run) => (hasLedger(run) && !run.verdict.pass ? { message: visibleLine(failureSentence(run.ledger)), type: `${run.ledger.unit}-loss` } : undefined),
  baselineMeasure: (run) => (hasLedger(run) ? { measure: 'lost', value: run.ledger.entries.lost } : roleView.baselineMeasure(run)),
};
