/**
 * The child protocol: one JSON object per line on the child's stdout. See
 * docs/protocol.md. Anything else on stdout is kept as child output, not parsed.
 */

/** The child is up and has registered its initial listener(s). */
export interface ReadyEvent {
  event: 'ready';
  pid: number;
  scenario: string;
  pattern: string;
  /** e.g. `node v20.20.2`. */
  runtime: string;
  /** Native channel kind the child uses, if any. */
  channel?: string;
  /** The child's own count of registered listeners for the signal. */
  listeners?: number;
}

/** The child handled reload number `seq` (1-based, its own count). */
export interface ReloadEvent {
  event: 'reload';
  seq: number;
  listeners: number;
  /** Subscribers of a hub, where the child has one. */
  subscribers?: number;
  /** Signals another subscriber of the hub has received so far (shows fan-out). */
  fannedOut?: number;
}

/** Reload `seq` happened but the child could not register a new listener. */
export interface RegisterFailedEvent {
  event: 'register-failed';
  seq: number;
  /** errno name, e.g. `EMFILE`. */
  code: string;
  message: string;
}

/** The child is exiting on SIGTERM/SIGINT; what it released. */
export interface ShutdownEvent {
  event: 'shutdown';
  /** fds the child closed itself. */
  closedFds: number;
  /** Signal listeners it removed. */
  removedListeners: number;
  /** fds it still held (left to the kernel at exit). */
  leakedFds?: number;
}

export type ChildEvent = ReadyEvent | ReloadEvent | RegisterFailedEvent | ShutdownEvent;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Field checks per event name: a line that fails them is not a protocol event. */
const VALIDATORS: Record<ChildEvent['event'], (o: Record<string, unknown>) => boolean> = {
  ready: (o) => isInt(o.pid) && isStr(o.scenario) && isStr(o.pattern) && isStr(o.runtime),
  reload: (o) => isInt(o.seq) && isInt(o.listeners),
  'register-failed': (o) => isInt(o.seq) && isStr(o.code) && isStr(o.message),
  shutdown: (o) => isInt(o.closedFds) && isInt(o.removedListeners),
};

/** Parses one stdout line; returns undefined for anything that is not a valid event. */
export function parseEvent(line: string): ChildEvent | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const name = o.event;
  if (typeof name !== 'string' || !Object.hasOwn(VALIDATORS, name)) return undefined;
  return VALIDATORS[name as ChildEvent['event']](o) ? (o as unknown as ChildEvent) : undefined;
}

/** Serialises an event as one protocol line (with the newline). */
export function formatEvent(event: ChildEvent): string {
  return `${JSON.stringify(event)}\n`;
}
