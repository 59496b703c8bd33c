/**
 * The native wake-up channel a signal listener owns: a self-pipe (2 fds) or a
 * signalfd (1 fd, Linux). Both children use this one type; only how they use
 * it differs.
 */
import { readSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { closeFd, openPipe, openSignalfd } from './libc.js';

import type { ChannelKind } from './channel-kinds.js';

export { CHANNEL_KINDS, type ChannelKind, FDS_PER_CHANNEL } from './channel-kinds.js';

export interface WakeChannel {
  readonly kind: ChannelKind;
  /** Every fd this channel holds, for reporting what close() released. */
  readonly fds: readonly number[];
  /** Called from the signal handler: make the channel readable. */
  notify(): void;
  /** Reads whatever is pending; returns the number of wake-ups consumed. */
  drain(): number;
  /** Releases the fds; idempotent. */
  close(): void;
}

const ONE_BYTE = Buffer.from([1]);

function isWouldBlock(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'EAGAIN';
}

function openSelfPipe(): WakeChannel {
  const [readFd, writeFd] = openPipe();
  const scratch = Buffer.alloc(256);
  let closed = false;
  return {
    kind: 'pipe',
    fds: [readFd, writeFd],
    notify() {
      if (closed) return;
      try {
        writeSync(writeFd, ONE_BYTE);
      } catch (error) {
        // A full pipe nobody reads is exactly the abandoned-listener state.
        if (!isWouldBlock(error)) throw error;
      }
    },
    drain() {
      let total = 0;
      for (;;) {
        try {
          const n = readSync(readFd, scratch, 0, scratch.length, null);
          if (n <= 0) return total;
          total += n;
        } catch (error) {
          if (isWouldBlock(error)) return total;
          throw error;
        }
      }
    },
    close() {
      if (closed) return;
      closed = true;
      closeFd(readFd);
      closeFd(writeFd);
    },
  };
}

// Node's own (libuv) handler receives the signal because it is not blocked, so
// the kernel never queues it on the signalfd: the fd is the native resource a
// listener allocates, and notify()/drain() have nothing to move.
function openSignalChannel(signal: NodeJS.Signals): WakeChannel {
  const fd = openSignalfd([osConstants.signals[signal]]);
  let closed = false;
  return {
    kind: 'signalfd',
    fds: [fd],
    notify() {},
    drain() {
      return 0;
    },
    close() {
      if (closed) return;
      closed = true;
      closeFd(fd);
    },
  };
}

/** Opens a channel of the given kind for one signal. Throws NativeError (e.g. EMFILE). */
export function openChannel(kind: ChannelKind, signal: NodeJS.Signals): WakeChannel {
  return kind === 'pipe' ? openSelfPipe() : openSignalChannel(signal);
}
