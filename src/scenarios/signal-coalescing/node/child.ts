/**
 * signal-coalescing, Node: counts what its handlers see of a burst repro
 * sends while it holds the child stopped (the signals stay pending).
 * - broken: counts SIGHUP events as events: 1 of N.
 * - correct: takes SIGHUP as "go look" and counts the work items in its spool (N of N).
 * - node-rt: listens for 'SIGRTMIN+1'. Node knows no real-time signals: the
 *   listener is an ordinary event that nothing emits, no handler is installed,
 *   and the first SIGRTMIN+1 kills the process (its default action).
 * SIGUSR2 prints {"event":"counted","hup":H,"rt":R,"seen":S}; end of stdin exits.
 */
import { readdirSync } from 'node:fs';
import { emit, exitWhenParentGoes, RUNTIME, stayAlive } from '../../../children/child-io.js';

const role = process.argv[2] ?? 'broken';
const spool = process.argv[3] === '--spool' ? process.argv[4] : undefined;
const counts = { hup: 0, rt: 0, seen: 0 };

process.on('SIGHUP', () => {
  counts.hup += 1;
  if (role === 'correct' && spool) counts.seen = readdirSync(spool).filter((n) => !n.startsWith('.')).length;
});
if (role === 'node-rt') process.on('SIGRTMIN+1' as NodeJS.Signals, () => (counts.rt += 1));
// A scenario event of its own, outside the protocol's ChildEvent types.
process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ event: 'counted', ...counts })}\n`));
emit({ event: 'ready', pid: process.pid, scenario: 'signal-coalescing', pattern: role, runtime: RUNTIME });
if (spool) process.stdout.write(`${JSON.stringify({ event: 'spool', dir: spool })}\n`);
exitWhenParentGoes();
stayAlive();
