/** Options of broken/correct/compare and their defaults, kept light: the CLI declares its options from these at start-up. */
import type { ChannelKind } from '../../native/channel-kinds.js';

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
}

export const SCENARIO_DEFAULTS: ScenarioOptions = {
  scenario: 'sighup-listener',
  channel: 'pipe',
  ulimit: 64,
  reloads: 500,
  ackTimeout: 2000,
  readyTimeout: 10_000,
  deadCheck: 300,
  grace: 2000,
  maxGrowth: 0.01,
  lag: 300,
  requests: 20_000,
  concurrency: 30,
  seed: 1,
};
