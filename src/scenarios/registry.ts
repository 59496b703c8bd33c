/** Scenario name → the broken and correct children and what each should show. */
import { fileURLToPath } from 'node:url';
import { CHANNEL_KINDS, type ChannelKind, FDS_PER_CHANNEL } from '../native/channel.js';

export type Pattern = 'broken' | 'correct';

export interface Scenario {
  name: string;
  summary: string;
  /** The signal each reload sends. */
  signal: NodeJS.Signals;
  channels: readonly ChannelKind[];
  /** Compiled child entry points, relative to dist/. */
  entries: Record<Pattern, string>;
  /** fds the broken child leaks per reload with each channel. */
  fdsPerReload: Record<ChannelKind, number>;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'sighup-listener',
    summary: 'a new signal listener with its own self-pipe/signalfd on every SIGHUP reload, never closed',
    signal: 'SIGHUP',
    channels: CHANNEL_KINDS,
    entries: { broken: 'broken/sighup-listener.js', correct: 'correct/sighup-hub.js' },
    fdsPerReload: FDS_PER_CHANNEL,
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** The argv that runs one pattern of a scenario with plain node (compiled JS, not tsx). */
export function childCommand(scenario: Scenario, pattern: Pattern, channel: ChannelKind): string[] {
  const entry = fileURLToPath(new URL(`../${scenario.entries[pattern]}`, import.meta.url));
  return [process.execPath, entry, '--channel', channel];
}
