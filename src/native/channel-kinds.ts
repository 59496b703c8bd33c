/** The channel kinds, apart from the channel code so the CLI can name them without loading libc. */
export const CHANNEL_KINDS = ['pipe', 'signalfd'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** fds one channel of each kind holds. */
export const FDS_PER_CHANNEL: Record<ChannelKind, number> = { pipe: 2, signalfd: 1 };
