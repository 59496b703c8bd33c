/** What every bundled child shares: speaking the protocol, reading its flags, leaving with its parent. */
import { fstatSync } from 'node:fs';
import { CHANNEL_KINDS, type ChannelKind } from '../native/channel.js';
import { type ChildEvent, formatEvent } from '../protocol/events.js';

/** Writes one protocol event to stdout (synchronous for pipes and files on Linux). */
export function emit(event: ChildEvent): void {
  process.stdout.write(formatEvent(event));
}

/** `--channel pipe|signalfd` from argv; pipe when absent. */
export function channelFromArgv(argv: readonly string[]): ChannelKind {
  const i = argv.indexOf('--channel');
  const value = i >= 0 ? argv[i + 1] : 'pipe';
  if (!CHANNEL_KINDS.includes(value as ChannelKind)) {
    process.stderr.write(`unknown --channel ${String(value)}: use ${CHANNEL_KINDS.join(' or ')}\n`);
    process.exit(2);
  }
  return value as ChannelKind;
}

/**
 * The harness holds our stdin open; when it closes (harness gone, even by
 * SIGKILL) we leave too. Portable where PR_SET_PDEATHSIG is not.
 */
export function exitWhenParentGoes(): void {
  if (!stdinLinksToParent()) return;
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

/**
 * Only a pipe or a socket is a link to a parent: Node (and so execa) gives a
 * child a socketpair, a shell gives a pipe. /dev/null would end at once and a
 * terminal would block, for reasons that have nothing to do with the parent.
 */
function stdinLinksToParent(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false; // no stdin at all: nothing to watch
  }
}

export const RUNTIME = `node ${process.version}`;

/** Signal listeners do not hold Node's event loop open; a service's server would. A timer costs no fd. */
export function stayAlive(): void {
  setInterval(() => {}, 2 ** 30);
}
