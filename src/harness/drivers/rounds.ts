/**
 * The rounds driver (runtime-teardown): each signal is one round in which the
 * child starts a runtime, drops handles and stops the runtime, telling each
 * step with a phase marker of its own (`{"event":"phase","round":k,"name":…}`).
 * Per round: send the signal; at each marker with `hold` (the child stops
 * itself right after writing it) wait until the process is stopped, snapshot
 * its fds (and, when the marker names an io_uring fd as `ring`, what that
 * ring still has queued), then resume it with SIGCONT; wait for the
 * acknowledgement with that sequence number (a timeout, never a sleep); let
 * the fd count settle; record what the round left by kind, with fd identities
 * (fd, kind, inode) so an fd left by an earlier round is never counted again.
 *
 * The round's numbers reach the recorder as fields of the acknowledgement it
 * samples (`leftFds`, `leakedFds`, `pendingSqes`), so a scenario declares them
 * as metrics read `fromEvent`; the per-round detail is kept as a `round` event.
 *
 * Under `--attribute` (`plan.trace`) the child runs under strace: the fds
 * open at the last sample that were not at the baseline are pinned before
 * teardown (as in the reload loop).
 */
import type { OtherEvent } from '../../protocol/events.js';
import type { ChildEvent } from '../../protocol/events.js';
import type { KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { ProbeError } from '../../fdprobe/errors.js';
import type { MeasuredRun } from '../../model/run-document.js';
import { round as roundTo } from '../../model/stats.js';
import { WaitError } from '../child-output.js';
import { launchChild, type LaunchedChild } from '../launch.js';
import { RunEnded, RunRecorder } from '../record.js';
import { LeakedFds } from './leaked-fds.js';
import type { DriverHooks, ReloadLoopPlan } from './reload-loop.js';
import { added, type FdIdentity, identities, kindsOf, processState, readRingPending, type RingPending } from './round-snapshot.js';

export interface RoundsPlan extends ReloadLoopPlan {
  /** After the acknowledgement, the fd count must hold still this long before the round's sample (default 10). */
  settleMs?: number;
}

/** What the driver saw at one phase marker. */
export interface PhaseSnapshot {
  name: string;
  fds: number;
  fdsByKind: KindCounts;
  /** The ring's pending SQEs, when the marker named an io_uring fd. */
  ring?: { fd: number } & RingPending;
}

/** Most fd identities listed per round in its `round` event (the counts are always whole). */
const LISTED_PER_ROUND = 32;

/** Phase markers in arrival order, awaited one at a time. */
class PhaseQueue {
  readonly #queued: OtherEvent[] = [];
  #wake: (() => void) | undefined;

  push(event: OtherEvent): void {
    this.#queued.push(event);
    this.#wake?.();
  }

  take(): OtherEvent | undefined {
    return this.#queued.shift();
  }

  /** Resolves when a marker is queued (at once if one is). */
  arrival(): Promise<void> {
    if (this.#queued.length) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

const isAck = (seq: number) => (e: ChildEvent) => (e.event === 'reload' || e.event === 'register-failed') && e.seq === seq;
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

function endFromWait(error: WaitError): RunEnded {
  if (error.reason === 'aborted') return new RunEnded('aborted', `aborted during ${error.phase}`);
  if (error.reason === 'exited') return new RunEnded('child-exited', `${error.message} during ${error.phase}`);
  return new RunEnded(error.phase === 'ready' ? 'ready-timeout' : 'ack-timeout', `${error.phase}: ${error.message}`);
}

export async function runRounds(plan: RoundsPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  const recorder = new RunRecorder(plan, hooks.probe, hooks.onSample);
  const settleMs = plan.settleMs ?? 10;
  const child = (hooks.launch ?? launchChild)({ command: plan.trace ? plan.trace.command(plan.command) : plan.command, ulimit: plan.ulimit });
  hooks.onChild?.(child);
  const leakedFds = plan.trace ? new LeakedFds() : undefined;
  const phases = new PhaseQueue();
  child.output.onEvent(({ event }) => {
    if (event.event !== 'reload') recorder.keep(event);
  });
  child.output.onOtherEvent((event) => (event.event === 'phase' ? phases.push(event) : recorder.keep(event)));

  const list = async (at: string): Promise<FdEntry[]> => {
    try {
      return await hooks.probe.list(child.pid);
    } catch (error) {
      if (error instanceof ProbeError) throw new RunEnded(error.failure === 'gone' ? 'child-exited' : 'probe-failed', `probe at ${at}: ${error.message}`);
      throw error;
    }
  };

  /** Waits until the child has stopped itself at a held marker (state T). */
  const stopped = async (what: string): Promise<void> => {
    const deadline = performance.now() + plan.ackTimeoutMs;
    for (;;) {
      const state = processState(child.pid);
      if (state === null || state === 'Z') throw new RunEnded('child-exited', `child gone at ${what}`);
      if (state === 'T' || state === 't') return;
      if (hooks.abort?.aborted) throw new RunEnded('aborted', `aborted at ${what}`);
      if (performance.now() > deadline) throw new RunEnded('ack-timeout', `${what}: the child did not stop within ${plan.ackTimeoutMs} ms`);
      await tick();
    }
  };

  const snapshot = async (marker: OtherEvent, k: number): Promise<PhaseSnapshot> => {
    const name = String(marker.name);
    const fds = await list(`${name} of round ${k}`);
    const ringFd = typeof marker.ring === 'number' ? marker.ring : undefined;
    const pending = ringFd === undefined ? null : readRingPending(child.pid, ringFd);
    return { name, fds: fds.length, fdsByKind: kindsOfEntries(fds), ...(pending && ringFd !== undefined ? { ring: { fd: ringFd, ...pending } } : {}) };
  };

  /** Waits for the fd count to hold still for `settleMs` (bounded by the ack timeout). */
  const settle = async (): Promise<void> => {
    const deadline = performance.now() + plan.ackTimeoutMs;
    let last = await hooks.probe.count(child.pid);
    let since = performance.now();
    while (performance.now() - since < settleMs && performance.now() < deadline) {
      await tick();
      const now = await hooks.probe.count(child.pid);
      if (now !== last) {
        last = now;
        since = performance.now();
      }
    }
  };

  let previous = new Map<string, FdIdentity>();
  let baseline = previous;
  try {
    const ready = await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort);
    await plan.trace?.attached(child.pid, plan.readyTimeoutMs);
    baseline = identities(child.pid, await list('the baseline'));
    previous = baseline;
    const atBaseline = await recorder.sample(child.pid, 0, { limit: plan.ulimit, event: { ...ready.event, leftFds: 0, leakedFds: 0 } });
    leakedFds?.observe(child.pid, 0, atBaseline);

    for (let k = 1; k <= plan.reloadsPlanned; k++) {
      if (hooks.abort?.aborted) throw new RunEnded('aborted', `aborted before reload ${k}`);
      plan.beforeSignal?.(k);
      const sentNs = process.hrtime.bigint();
      if (!child.signal(plan.signal)) throw new RunEnded('child-exited', `child gone before reload ${k}`);
      const ack = child.output.waitFor(isAck(k), plan.ackTimeoutMs, `reload ${k}`, hooks.abort);
      let acked = false;
      void ack.then(
        () => (acked = true),
        () => (acked = true),
      );
      const seen: PhaseSnapshot[] = [];
      // Markers until the acknowledgement: a held child cannot acknowledge before it is resumed.
      while (!acked) {
        await Promise.race([ack, phases.arrival()]);
        for (let marker = phases.take(); marker; marker = phases.take()) {
          if (marker.round !== k) continue;
          if (marker.hold === true) await stopped(`phase ${String(marker.name)} of round ${k}`);
          seen.push(await snapshot(marker, k));
          if (marker.hold === true) process.kill(child.pid, 'SIGCONT');
        }
      }
      const answer = await ack;
      await settle();
      const now = identities(child.pid, await list(`the end of round ${k}`));
      const left = added(previous, now);
      const freed = added(now, previous);
      const leaked = added(baseline, now);
      previous = now;
      const lastRing = seen.filter((s) => s.ring && s.name !== 'runtime-stopped').at(-1)?.ring;
      const roundFields = { leftFds: left.length, leakedFds: leaked.length, ...(lastRing ? { pendingSqes: lastRing.sqes } : {}) };
      // Every round that left or freed something, and the first (the phases of a round that left nothing).
      if (k === 1 || left.length || freed.length) recorder.keep(roundEvent(k, left, freed, seen));
      const atEnd = await recorder.sample(child.pid, k, { limit: plan.ulimit, event: { ...answer.event, ...roundFields }, roundTripMs: roundTo(Number(answer.atNs - sentNs) / 1e6, 4) });
      leakedFds?.observe(child.pid, k, atEnd);
      if (answer.event.event === 'register-failed') {
        recorder.end(new RunEnded('emfile', `${answer.event.message} at reload ${k}`));
        break;
      }
    }
  } catch (error) {
    const ended = error instanceof WaitError ? endFromWait(error) : error;
    if (!(ended instanceof RunEnded)) {
      await stop(child, plan.graceMs);
      throw error;
    }
    recorder.end(ended);
  }

  if (leakedFds && recorder.last()) plan.trace?.pin(leakedFds.leaked());
  const exit = await stop(child, plan.graceMs);
  if (recorder.ending.reason === 'child-exited') recorder.end(new RunEnded('child-exited', `${recorder.ending.detail} (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`})`));
  return recorder.finish({
    pid: child.pid,
    child: exit,
    ulimit: plan.ulimit,
    stderr: child.output.stderr.view(),
    stdout: child.output.stdout.view(),
  });
}

/** The `round` event kept in the run: what the round left and freed, by kind and by identity, and each phase's snapshot. */
export function roundEvent(k: number, left: readonly FdIdentity[], freed: readonly FdIdentity[], phases: readonly PhaseSnapshot[]): OtherEvent {
  return {
    event: 'round',
    round: k,
    left: left.length,
    leftByKind: kindsOf(left),
    leftFds: left.slice(0, LISTED_PER_ROUND),
    freed: freed.length,
    freedFds: freed.slice(0, LISTED_PER_ROUND),
    phases,
  };
}

function kindsOfEntries(fds: readonly FdEntry[]): KindCounts {
  return kindsOf(fds.map((f) => ({ fd: f.fd, kind: f.kind, inode: null })));
}

/** A child stopped at a marker would sit out the whole grace period: resume it first. */
async function stop(child: LaunchedChild, graceMs: number) {
  if (child.isRunning()) {
    try {
      process.kill(child.pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  return child.stop(graceMs);
}
