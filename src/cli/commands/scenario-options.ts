/** Options of broken/correct/compare and their defaults, from the one option table (src/cli/options.ts). */
import type { ChannelKind } from '../../native/channel-kinds.js';
import { defaultOf } from '../options.js';

export interface ScenarioOptions {
  scenario: string;
  /** Runtime of the children; the scenario's first when absent. */
  runtime?: string;
  /** sighup-listener's --channel (scenario options are keyed by their `key`). */
  channel: ChannelKind;
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
}

export const SCENARIO_DEFAULTS: ScenarioOptions = {
  scenario: defaultOf('scenario', 'scenario'),
  channel: defaultOf('channel', 'scenario'),
  ulimit: defaultOf('ulimit', 'scenario'),
  reloads: defaultOf('reloads', 'scenario'),
  ackTimeout: defaultOf('ackTimeout', 'scenario'),
  readyTimeout: defaultOf('readyTimeout', 'scenario'),
  deadCheck: defaultOf('deadCheck', 'scenario'),
  grace: defaultOf('grace', 'scenario'),
  maxGrowth: defaultOf('maxGrowth', 'scenario'),
  lag: defaultOf('lag', 'scenario'),
  requests: defaultOf('requests', 'scenario'),
  concurrency: defaultOf('concurrency', 'scenario'),
  seed: defaultOf('seed', 'scenario'),
};
