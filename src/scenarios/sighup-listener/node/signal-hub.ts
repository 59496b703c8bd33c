/**
 * One process-wide signal hub: the first subscriber of a signal opens one
 * native channel and makes one process.on registration; every later
 * subscriber is a Set entry. Each delivered signal is fanned out to all
 * subscribers. The hub lives under a Symbol.for key on globalThis, so two
 * copies of this module (two versions in node_modules, or a cache-busted
 * import) still share one hub.
 */
import { type ChannelKind, openChannel, type WakeChannel } from '../../../native/channel.js';

export type Subscriber = (signal: NodeJS.Signals) => void;

interface SignalEntry {
  channel: WakeChannel;
  handler: () => void;
  subscribers: Set<Subscriber>;
  /** Signals delivered but not yet fanned out. */
  pending: number;
}

/** What close() released. */
export interface HubRelease {
  closedFds: number;
  removedListeners: number;
}

export class SignalHub {
  readonly #entries = new Map<NodeJS.Signals, SignalEntry>();
  #closed = false;

  constructor(readonly channelKind: ChannelKind = 'pipe') {}

  /** Adds a subscriber; returns an idempotent unsubscribe. Throws NativeError when the channel cannot open. */
  subscribe(signal: NodeJS.Signals, subscriber: Subscriber): () => void {
    if (this.#closed) throw new Error('signal hub is closed');
    const entry = this.#entries.get(signal) ?? this.#register(signal);
    // A wrapper, so one function subscribed twice is two subscriptions, each removable once.
    const subscription: Subscriber = (s) => subscriber(s);
    entry.subscribers.add(subscription);
    return () => {
      entry.subscribers.delete(subscription);
    };
  }

  /** Subscribers of one signal. */
  subscriberCount(signal: NodeJS.Signals): number {
    return this.#entries.get(signal)?.subscribers.size ?? 0;
  }

  /** fds held by all channels. */
  fdCount(): number {
    let n = 0;
    for (const entry of this.#entries.values()) n += entry.channel.fds.length;
    return n;
  }

  /** Removes every registration and closes every channel; a second call releases nothing. */
  close(): HubRelease {
    const release: HubRelease = { closedFds: 0, removedListeners: 0 };
    if (this.#closed) return release;
    this.#closed = true;
    for (const [signal, entry] of this.#entries) {
      process.removeListener(signal, entry.handler);
      release.removedListeners += 1;
      release.closedFds += entry.channel.fds.length;
      entry.channel.close();
      entry.subscribers.clear();
    }
    this.#entries.clear();
    return release;
  }

  #register(signal: NodeJS.Signals): SignalEntry {
    const channel = openChannel(this.channelKind, signal);
    const entry: SignalEntry = {
      channel,
      subscribers: new Set(),
      pending: 0,
      handler: () => {
        channel.notify();
        entry.pending += 1;
        if (entry.pending === 1) setImmediate(() => this.#dispatch(signal, entry));
      },
    };
    process.on(signal, entry.handler);
    this.#entries.set(signal, entry);
    return entry;
  }

  #dispatch(signal: NodeJS.Signals, entry: SignalEntry): void {
    if (this.#closed) return;
    entry.channel.drain();
    const count = entry.pending;
    entry.pending = 0;
    for (let i = 0; i < count; i++) {
      // A snapshot: subscribers added during fan-out wait for the next signal.
      for (const subscriber of [...entry.subscribers]) subscriber(signal);
    }
  }
}

const HUB_KEY = Symbol.for('repro.signal-hub');
type HubHolder = { [HUB_KEY]?: SignalHub };

/** The process-wide hub; created on first use with the given channel kind. */
export function getSignalHub(channelKind: ChannelKind = 'pipe'): SignalHub {
  const holder = globalThis as HubHolder;
  holder[HUB_KEY] ??= new SignalHub(channelKind);
  return holder[HUB_KEY];
}
