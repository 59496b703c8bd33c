/** A watched tree's part of the run document (repro watch): any program, its process tree driven by signals. */
import type { Attribution, ReloadLoad, SurvivorSummary, WatchedTree } from '../../model/run-document.js';

export interface TreeRecord {
  /** A process tree driven by signals, each reload known finished from /proc. */
  measurement: 'tree';
  /** Attached to a running process (`--pid`) rather than spawned. */
  attached?: boolean;
  /** --pid: the process was still running when the run ended (absent: not known, older documents). */
  leftRunning?: boolean;
  /** True when --ulimit set the limit, false when the program ran under its own (absent: older documents). */
  ulimitGiven?: boolean;
  /** EMFILE seen without the protocol: fds at the limit, or the program saying so (on its output, or in the `--log` file: then `logFile` is its path and `evidence` the line). */
  emfileObserved?: {
    /**
     * The reload after which it was seen.
     * @minimum 0
     * @integer
     */
    reload: number;
    /** The line or count that showed it. */
    evidence: string;
    /** The --log file the line came from. */
    logFile?: string;
    /** No call failed: after `reload` too few slots are free for the next reload's fds (predicted from the free slots). */
    ahead?: boolean;
  };
  /** The watched process tree, the signal's target, and how reloads were known finished. */
  tree?: WatchedTree;
  /** watch --url: the load through the reloads, every request by the reload window it started in. */
  reloadLoad?: ReloadLoad;
  /** Survivors by reload, the leak gate. */
  survivors?: SurvivorSummary;
  /** --attribute: the call, reload and stack that made each surviving fd. */
  attribution?: Attribution;
  /** What the process did with the signal when the run started. */
  signalDisposition?: 'caught' | 'ignored' | 'blocked' | 'default';
  /** The gate the growth was judged by (`--max-growth`, fd/reload). */
  maxGrowthPerReload?: number;
}
