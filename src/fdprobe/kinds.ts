/** What an fd refers to: the kinds and their classification live in the fd-kind table, src/proc/fd-kinds.ts. */
export { classifyTarget, countKinds, FD_KINDS, type FdKind, type KindCounts } from '../proc/fd-kinds.js';
