/**
 * `--attribute` in a scenario run: which fds leaked. The scenario runs have
 * no survivors gate like watch; a leaked fd is one open at the last sample
 * (before teardown) that was not open at the baseline, by identity (fd
 * number and object: a pipe's or socket's inode, a file's device:inode, see
 * tree/identity.ts), with the reload after which its current incarnation was
 * first seen. Fed every sample the driver takes, in order.
 */
import type { Survivor } from '../../attribution/tracker.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { FirstSeen, type FdIdentity, identitiesOf, identityKey } from '../tree/identity.js';

export class LeakedFds {
  readonly #first = new FirstSeen();
  #baseline = new Set<string>();
  #last: FdIdentity[] = [];
  #seen = false;

  /** Whether any sample was observed (nothing to pin before the baseline). */
  get seen(): boolean {
    return this.#seen;
  }

  /** The fds of the sample after signal `reload` (0: the baseline). */
  observe(pid: number, reload: number, entries: readonly FdEntry[]): void {
    const ids = identitiesOf(pid, entries);
    if (reload === 0) this.#baseline = new Set(ids.map(identityKey));
    this.#first.observe(reload, ids);
    this.#last = ids;
    this.#seen = true;
  }

  /** fds open at the last sample that were not open at the baseline, each with the reload it was first seen after. */
  leaked(): Survivor[] {
    return this.#last
      .filter((id) => !this.#baseline.has(identityKey(id)))
      .map((id) => ({ pid: id.pid, fd: id.fd, kind: id.kind, object: id.object, reload: this.#first.reloadOf(id) ?? 0 }));
  }
}
