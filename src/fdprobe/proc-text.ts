/** The /proc text parsers live in src/proc; this facade keeps the fdprobe import path. */
export { parseLimits, parseRssKb, parseSignalDisposition, type SignalDisposition } from '../proc/proc-text.js';
