/** The procfs back end now lives in src/proc (the process-view layer); this facade keeps the fdprobe import path. */
export { hasProcfs, parseLimits, parseRssKb, parseSignalDisposition, PROC_ROOT, ProcfsProbe, resolveSockets, signalDisposition, type SignalDisposition } from '../proc/procfs-probe.js';
