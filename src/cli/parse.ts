/** Option value parsers for commander: each names the flag and the fix when a value is off. */
import { constants as osConstants } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';

/**
 * The one number grammar of every numeric option: decimal digits, with a
 * fraction where the option takes one. `Number()` alone would also take hex
 * (`0x10`), binary, octal and exponents (`1e3`), so a value a user meant one
 * way could be read another; blanks around the value are forgiven.
 */
const WHOLE = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** A whole number in [min, max], in decimal digits. */
export function wholeNumber(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!WHOLE.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, got '${value}'.`);
    }
    return n;
  };
}

/** A non-negative number in [min, max], in decimal digits with an optional fraction (0.05, 2, .5). */
export function decimal(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!DECIMAL.test(value.trim()) || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} takes a number from ${min} to ${max}, got '${value}'.`);
    }
    return n;
  };
}

/** One of a fixed list. */
export function oneOf<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`${flag} takes one of ${choices.join(', ')}, got '${value}'.`);
    return value as T;
  };
}

/** Signals a process cannot catch, block or ignore. */
const UNCATCHABLE: readonly string[] = ['SIGKILL', 'SIGSTOP'];

/** What the signal is for, so an uncatchable one is refused with advice that fits: a reload (watch) or a shutdown (drain). */
const ADVICE = {
  reload: 'no program can reload on it; use a signal the program handles, such as HUP or USR1',
  shutdown: 'no program can shut down gracefully on it; use a shutdown signal the program handles, such as TERM, INT or QUIT',
} as const;

/** A catchable signal name with or without SIG (HUP, SIGHUP, hup) or a number. */
export function signalName(flag: string, purpose: keyof typeof ADVICE = 'reload') {
  return (value: string): NodeJS.Signals => {
    const signals = osConstants.signals as Record<string, number>;
    const upper = value.trim().toUpperCase();
    const name = /^\d+$/.test(upper) ? Object.keys(signals).find((k) => signals[k] === Number(upper)) : upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (!name || signals[name] === undefined) throw new InvalidArgumentError(`${flag} takes a signal name such as HUP, TERM or USR1, got '${value}'.`);
    if (UNCATCHABLE.includes(name)) {
      throw new InvalidArgumentError(`${flag} ${value}: ${name} cannot be caught, so ${ADVICE[purpose]}.`);
    }
    return name as NodeJS.Signals;
  };
}

/** watch's waits, checked together: a settle window longer than the wait for it could never end in a settled count. */
export function checkSettleWindows(options: { settle: number; settleTimeout: number; readyAfter?: number; readyTimeout: number }): void {
  const { settle, settleTimeout, readyAfter, readyTimeout } = options;
  if (settle > settleTimeout) {
    throw new UsageError(`--settle ${settle} is longer than --settle-timeout ${settleTimeout}, so no reload could ever settle; use --settle-timeout ${settle} or more, or a shorter --settle`);
  }
  if (readyAfter === undefined && settle > readyTimeout) {
    throw new UsageError(`--settle ${settle} is longer than --ready-timeout ${readyTimeout}, so start-up could never settle; use --ready-timeout ${settle} or more, or --ready-after MS`);
  }
}
