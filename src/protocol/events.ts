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

/**
 * An event this harness has no rules for: a scenario's own event (phase
 * markers, ledgers) or a newer child's. Kept in the run document, never acted on.
 */
export interface OtherEvent {
  event: string;
  [field: string]: unknown;
}

/** Any event a run document keeps. */
export type ProtocolEvent = ChildEvent | OtherEvent;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Field checks per event name: a line that fails them is not a protocol event. */
const VALIDATORS: Record<ChildEvent['event'], (o: Record<string, unknown>) => boolean> = {
  ready: (o) => isInt(o.pid) && isStr(o.scenario) && isStr(o.pattern) && isStr(o.runtime),
  reload: (o) => isInt(o.seq) && isInt(o.listeners),
  'register-failed': (o) => isInt(o.seq) && isStr(o.code) && isStr(o.message),
  shutdown: (o) => isInt(o.closedFds) && isInt(o.removedListeners),
};

/** A JSON object with a string `event` field, or undefined. */
function eventObject(line: string): Record<string, unknown> | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return typeof (value as Record<string, unknown>).event === 'string' ? (value as Record<string, unknown>) : undefined;
}

/**
 * Parses one stdout line. `known`: an event the harness acts on, with its
 * fields checked; `other`: a well-formed event of a name it has no rules for
 * (kept, not acted on); undefined: plain output (also a known event missing a field).
 */
export function parseLine(line: string): { known: ChildEvent } | { other: OtherEvent } | undefined {
  const o = eventObject(line);
  if (!o) return undefined;
  const name = o.event as string;
  if (!Object.hasOwn(VALIDATORS, name)) return { other: o as OtherEvent };
  return VALIDATORS[name as ChildEvent['event']](o) ? { known: o as unknown as ChildEvent } : undefined;
}

/** Parses one stdout line; returns undefined for anything that is not a valid event the harness acts on. */
export function parseEvent(line: string): ChildEvent | undefined {
  const parsed = parseLine(line);
  return parsed && 'known' in parsed ? parsed.known : undefined;
}

/** Serialises an event as one protocol line (with the newline). */
export function formatEvent(event: ChildEvent): string {
  return `${JSON.stringify(event)}\n`;
}
