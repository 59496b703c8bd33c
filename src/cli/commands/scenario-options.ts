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
};
