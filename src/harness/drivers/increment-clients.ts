/**
 * state-on-shutdown's clients: a few connections to the service's unix socket,
 * each sending one increment at a time (`inc ID`) and counting its
 * acknowledgement (`ok ID`) in the ledger. The signal goes right after a
 * seeded number of increments were sent; the clients keep sending until the
 * service is gone. After the exit repro reads the state file: an increment
 * acknowledged and not in it is lost, one never acknowledged was promised nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryLedger } from '../../kinds/ledger/entries.js';
import type { LedgerExercise } from './ledger-run.js';
import { seededPick } from './queue-broker.js';

/** Connections sending increments at once. */
const CLIENTS = 4;
/** The signal comes right after FIRST..FIRST+SPREAD-1 increments were sent (seeded). */
const FIRST_SIGNAL_INCREMENT = 300;
const SIGNAL_SPREAD = 300;

/** What the state file says was applied, or why it says nothing. */
function readState(path: string): { ids: Set<string> } | { missing: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { missing: 'acknowledged, but no state file after the exit' };
  }
  try {
    const state = JSON.parse(text) as { applied?: unknown };
    if (!Array.isArray(state.applied)) return { missing: 'acknowledged, but the state file has no list of increments' };
    return { ids: new Set(state.applied.map(String)) };
  } catch {
    return { missing: 'acknowledged, but the state file did not parse (a torn write)' };
  }
}

export function incrementExercise(seed: number): LedgerExercise {
  const dir = mkdtempSync(join(tmpdir(), 'repro-state-'));
  const socketPath = join(dir, 'service.sock');
  const statePath = join(dir, 'state.json');
  const ledger = new EntryLedger();
  const signalAfter = FIRST_SIGNAL_INCREMENT + seededPick(seed, SIGNAL_SPREAD);
  const sockets = new Set<Socket>();
  let nextId = 1;
  let signalNow: (() => void) | undefined;
  let stopped = false;

  const send = (socket: Socket) => {
    if (stopped || socket.destroyed) return;
    const id = String(nextId++);
    ledger.handOut(id, performance.now());
    socket.write(`inc ${id}\n`);
    if (Number(id) === signalAfter && signalNow) {
      const now = signalNow;
      signalNow = undefined;
      now();
    }
  };

  const client = () => {
    const socket = connect(socketPath);
    sockets.add(socket);
    socket.setEncoding('utf8');
    let pending = '';
    socket.on('connect', () => send(socket));
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const [verb, id] = pending.slice(0, end).split(' ');
        pending = pending.slice(end + 1);
        if (verb === 'ok' && id !== undefined) ledger.acknowledge(id, performance.now());
        send(socket);
      }
    });
    // The service going away resets or closes the connections: the ledger shows what that cost.
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };

  return {
    unit: 'increment',
    kept: 'acknowledged and in the state file',
    args: ['--socket', socketPath, '--state', statePath],
    signalAfter,
    listening: Promise.resolve(),
    start(now) {
      signalNow = now;
      for (let i = 0; i < CLIENTS; i += 1) client();
    },
    markSignal(at) {
      ledger.markSignal(at);
    },
    async settle() {
      // Acknowledgements still in repro's socket buffers when the exit is seen are read first.
      for (let waitedMs = 0; sockets.size > 0 && waitedMs < 500; waitedMs += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      stopped = true;
      const state = readState(statePath);
      return ledger.settle((id, acknowledged) => {
        if (!acknowledged) return 'unsettled';
        if ('missing' in state) return { lost: state.missing };
        return state.ids.has(id) ? 'kept' : { lost: 'acknowledged, but missing from the state file' };
      });
    },
    dispose() {
      stopped = true;
      for (const s of sockets) s.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
