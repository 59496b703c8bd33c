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
import type { KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { ProbeError } from '../../fdprobe/errors.js';
import type { ChildExit, MeasuredRun } from '../../model/run-document.js';
import { round as roundTo } from '../../model/stats.js';
import { runLoop, type RunContext } from '../../core/lifecycle.js';
import type { LaunchedChild } from '../launch.js';
import { RunEnded } from '../record.js';
import { childOf, type DriverHooks, isAck, ProtocolStrategy, type ReloadLoopPlan } from './reload-loop.js';
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

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** The rounds as a step strategy: per round, signal, snapshot each held phase, await the acknowledgement, count what the round left by identity. */
class Rounds extends ProtocolStrategy {
  readonly #settleMs: number;
  readonly #phases = new PhaseQueue();
  #baseline = new Map<string, FdIdentity>();
  #previous = this.#baseline;

  constructor(plan: RoundsPlan, hooks: DriverHooks) {
    super(plan, hooks);
    this.#settleMs = plan.settleMs ?? 10;
  }

  /** Phase markers are queued for the round that holds them; other events are kept. */
  protected override onOther(event: OtherEvent): void {
    if (event.event === 'phase') this.#phases.push(event);
    else super.onOther(event);
  }

  async baseline(run: RunContext): Promise<void> {
    const pid = childOf(run).pid;
    this.#baseline = identities(pid, await this.#list(pid, 'the baseline'));
    this.#previous = this.#baseline;
    const atBaseline = await this.recorder.sample(pid, 0, { limit: this.plan.ulimit, event: { ...this.readyEvent, leftFds: 0, leakedFds: 0 } });
    run.observeFds(pid, 0, atBaseline);
  }

  async step(k: number, run: RunContext): Promise<'next' | 'end'> {
    const child = childOf(run);
    this.plan.beforeSignal?.(k);
    const sentNs = process.hrtime.bigint();
    if (!child.signal(this.plan.signal)) throw new RunEnded('child-exited', `child gone before reload ${k}`);
    const ack = child.output.waitFor(isAck(k), this.plan.ackTimeoutMs, `reload ${k}`, this.hooks.abort);
    const seen = await this.#phasesUntil(ack, child.pid, k);
    const answer = await ack;
    await this.#settle(child.pid);
    const now = identities(child.pid, await this.#list(child.pid, `the end of round ${k}`));
    const left = added(this.#previous, now);
    const freed = added(now, this.#previous);
    const leaked = added(this.#baseline, now);
    this.#previous = now;
    const lastRing = seen.filter((s) => s.ring && s.name !== 'runtime-stopped').at(-1)?.ring;
    const roundFields = { leftFds: left.length, leakedFds: leaked.length, ...(lastRing ? { pendingSqes: lastRing.sqes } : {}) };
    // Every round that left or freed something, and the first (the phases of a round that left nothing).
    if (k === 1 || left.length || freed.length) this.recorder.keep(roundEvent(k, left, freed, seen));
    const atEnd = await this.recorder.sample(child.pid, k, { limit: this.plan.ulimit, event: { ...answer.event, ...roundFields }, roundTripMs: roundTo(Number(answer.atNs - sentNs) / 1e6, 4) });
    run.observeFds(child.pid, k, atEnd);
    if (answer.event.event !== 'register-failed') return 'next';
    this.recorder.end(new RunEnded('emfile', `${answer.event.message} at reload ${k}`));
    return 'end';
  }

  /** A child stopped at a marker would sit out the whole grace period: resume it first. */
  async teardown(child: LaunchedChild): Promise<ChildExit> {
    if (child.isRunning()) {
      try {
        process.kill(child.pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    return child.stop(this.plan.graceMs);
  }

  /** Markers until the acknowledgement: a held child cannot acknowledge before it is resumed. */
  async #phasesUntil(ack: Promise<unknown>, pid: number, k: number): Promise<PhaseSnapshot[]> {
    let acked = false;
    void ack.then(
      () => (acked = true),
      () => (acked = true),
    );
    const seen: PhaseSnapshot[] = [];
    while (!acked) {
      await Promise.race([ack, this.#phases.arrival()]);
      for (let marker = this.#phases.take(); marker; marker = this.#phases.take()) {
        if (marker.round !== k) continue;
        if (marker.hold === true) await this.#stopped(pid, `phase ${String(marker.name)} of round ${k}`);
        seen.push(await this.#snapshot(pid, marker, k));
        if (marker.hold === true) process.kill(pid, 'SIGCONT');
      }
    }
    return seen;
  }

  async #list(pid: number, at: string): Promise<FdEntry[]> {
    try {
      return await this.hooks.probe.list(pid);
    } catch (error) {
      if (error instanceof ProbeError) throw new RunEnded(error.failure === 'gone' ? 'child-exited' : 'probe-failed', `probe at ${at}: ${error.message}`);
      throw error;
    }
  }

  /** Waits until the child has stopped itself at a held marker (state T). */
  async #stopped(pid: number, what: string): Promise<void> {
    const deadline = performance.now() + this.plan.ackTimeoutMs;
    for (;;) {
      const state = processState(pid);
      if (state === null || state === 'Z') throw new RunEnded('child-exited', `child gone at ${what}`);
      if (state === 'T' || state === 't') return;
      if (this.hooks.abort?.aborted) throw new RunEnded('aborted', `aborted at ${what}`);
      if (performance.now() > deadline) throw new RunEnded('ack-timeout', `${what}: the child did not stop within ${this.plan.ackTimeoutMs} ms`);
      await tick();
    }
  }

  async #snapshot(pid: number, marker: OtherEvent, k: number): Promise<PhaseSnapshot> {
    const name = String(marker.name);
    const fds = await this.#list(pid, `${name} of round ${k}`);
    const ringFd = typeof marker.ring === 'number' ? marker.ring : undefined;
    const pending = ringFd === undefined ? null : readRingPending(pid, ringFd);
    return { name, fds: fds.length, fdsByKind: kindsOfEntries(fds), ...(pending && ringFd !== undefined ? { ring: { fd: ringFd, ...pending } } : {}) };
  }

  /** Waits for the fd count to hold still for the settle time (bounded by the ack timeout). */
  async #settle(pid: number): Promise<void> {
    const deadline = performance.now() + this.plan.ackTimeoutMs;
    let last = await this.hooks.probe.count(pid);
    let since = performance.now();
    while (performance.now() - since < this.#settleMs && performance.now() < deadline) {
      await tick();
      const now = await this.hooks.probe.count(pid);
      if (now !== last) {
        last = now;
        since = performance.now();
      }
    }
  }
}

export async function runRounds(plan: RoundsPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  return runLoop(new Rounds(plan, hooks), hooks);
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
