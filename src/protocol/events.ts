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
  /** A server child's listening port on 127.0.0.1. */
  port?: number;
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
 * markers, ledgers) or a newer child's. Kept in the run document, never acted
 * on; nested values deeper than a few levels are cut (see `bounded`).
 */
export interface OtherEvent {
  event: string;
  [field: string]: unknown;
}

/** Any event a run document keeps. */
export type ProtocolEvent = ChildEvent | OtherEvent;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

type Check = (v: unknown) => boolean;

/** The fields each event may carry, and whether each is required: nothing else is kept. */
const FIELDS: Record<ChildEvent['event'], Record<string, { check: Check; required: boolean }>> = {
  ready: {
    pid: { check: isInt, required: true },
    scenario: { check: isStr, required: true },
    pattern: { check: isStr, required: true },
    runtime: { check: isStr, required: true },
    channel: { check: isStr, required: false },
    listeners: { check: isInt, required: false },
    port: { check: isInt, required: false },
  },
  reload: {
    seq: { check: isInt, required: true },
    listeners: { check: isInt, required: true },
    subscribers: { check: isInt, required: false },
    fannedOut: { check: isInt, required: false },
  },
  'register-failed': {
    seq: { check: isInt, required: true },
    code: { check: isStr, required: true },
    message: { check: isStr, required: true },
  },
  shutdown: {
    closedFds: { check: isInt, required: true },
    removedListeners: { check: isInt, required: true },
    leakedFds: { check: isInt, required: false },
  },
};

/** How deep a kept unknown event may nest, and how many fields or items each level keeps. */
const OTHER_DEPTH = 4;
const OTHER_WIDTH = 64;

/**
 * A copy of a JSON value cut to OTHER_DEPTH levels and OTHER_WIDTH entries per
 * level: what a child puts in an event of its own (an array nested 10 000
 * deep, which JSON.parse reads but JSON.stringify cannot write back) never
 * reaches the run document whole. Deeper parts become the string `…`.
 */
function bounded(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'string' && value.length > 1024 ? `${value.slice(0, 1024)}…` : value;
  if (depth >= OTHER_DEPTH) return '…';
  if (Array.isArray(value)) return value.slice(0, OTHER_WIDTH).map((v) => bounded(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .slice(0, OTHER_WIDTH)
      .map(([k, v]) => [k, bounded(v, depth + 1)]),
  );
}

/**
 * Parses one stdout line. `known`: an event the harness acts on, holding only
 * the fields the protocol defines (a string or a whole number each; an
 * optional field of the wrong type is dropped, a missing required one makes
 * the line plain output); `other`: a well-formed event of a name it has no
 * rules for, kept (bounded) and never acted on; undefined: plain output.
 */
export function parseLine(line: string): { known: ChildEvent } | { other: OtherEvent } | undefined {
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
  if (typeof name !== 'string') return undefined;
  if (!Object.hasOwn(FIELDS, name)) return { other: { ...(bounded(o) as Record<string, unknown>), event: name } };
  const event: Record<string, unknown> = { event: name };
  for (const [field, { check, required }] of Object.entries(FIELDS[name as ChildEvent['event']])) {
    const v = Object.hasOwn(o, field) ? o[field] : undefined;
    if (check(v)) event[field] = v;
    else if (required) return undefined;
  }
  return { known: event as unknown as ChildEvent };
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
