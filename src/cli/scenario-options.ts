/**
 * Options of broken/correct/compare and their defaults: the shared run options
 * from the option table (src/cli/options.ts) and each scenario's own options,
 * declared in the scenario and keyed here by their `key`.
 */
import { scenarioCommandDefaults } from './options.js';

export interface ScenarioOptions {
  scenario: string;
  /** Runtime of the children; the scenario's first when absent. */
  runtime?: string;
  ulimit: number;
  reloads: number;
  ackTimeout: number;
  readyTimeout: number;
  deadCheck: number;
  grace: number;
  maxGrowth: number;
  /** load-and-signal scenarios (graceful-drain): the routing lag after the signal, ms. */
  lag: number;
  /** load-and-signal: most requests the load sends. */
  requests: number;
  /** load-and-signal: concurrent clients. */
  concurrency: number;
  /** load-and-signal: seed of the client mix and of the signal's moment. */
  seed: number;
  /** Run each child under strace and attribute every leaked fd to the call, reload and stack that made it (src/attribution/; not load-and-signal). */
  attribute?: boolean;
  /** Option keys the user set (commander's getOptionValueSource is not `default`); absent when called without the CLI. */
  given?: readonly string[];
  /** A scenario's own options (`channel` for sighup-listener), by their declared `key`. */
  [scenarioOption: string]: unknown;
}

export const SCENARIO_DEFAULTS = scenarioCommandDefaults() as ScenarioOptions;
