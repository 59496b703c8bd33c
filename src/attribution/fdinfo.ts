/**
 * What an anonymous fd is, from /proc/PID/fdinfo/N: a signalfd's signal
 * mask, an inotify's watches, an epoll's targets, an eventfd's count, a
 * timerfd's clock, a pidfd's process (the fd-kind table, src/proc/fd-kinds.ts,
 * says how to read each). Read while the process lives (at the last sample);
 * undefined for kinds fdinfo says nothing more about.
 */
import { constants as osConstants } from 'node:os';
import { describeFdinfoText, nameSignalsWith, signalsInMask as maskNames } from '../proc/fd-kinds.js';
import { procfsView } from '../proc/procfs-view.js';
import type { ProcessView } from '../proc/view.js';

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));
const nameOf = (n: number) => SIGNAL_NAMES.get(n) ?? `signal ${n}`;
nameSignalsWith(nameOf);

/** Signal names in a hex mask (bit n−1 is signal n). */
export function signalsInMask(hex: string): string[] {
  return maskNames(hex, nameOf);
}

/** One line about an fd from its fdinfo text (pure); undefined when there is nothing beyond pos and flags. */
export function describeFdinfo(text: string): string | undefined {
  return describeFdinfoText(text);
}

/** Reads and describes /proc/PID/fdinfo/FD; undefined when gone or plain. */
export function readFdinfo(pid: number, fd: number, procRoot = '/proc', view: ProcessView = procfsView(procRoot)): string | undefined {
  const text = view.fdinfo(`${procRoot}/${pid}/fd`, fd);
  return text === undefined ? undefined : describeFdinfo(text);
}
