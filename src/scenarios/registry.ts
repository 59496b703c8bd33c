/** Scenario name → the broken and correct children and what each should show. */
import { fileURLToPath } from 'node:url';
import { CHANNEL_KINDS, type ChannelKind, FDS_PER_CHANNEL } from '../native/channel-kinds.js';

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

/**
 * The argv that runs one pattern of a scenario with plain node. Children always
 * run the compiled JavaScript in dist/ (tsx start-up is ~3× node's), also when
 * this module itself runs from src/ under the test runner.
 */
export function childCommand(scenario: Scenario, pattern: Pattern, channel: ChannelKind): string[] {
  const packageRoot = new URL('../../', import.meta.url);
  const entry = fileURLToPath(new URL(`dist/${scenario.entries[pattern]}`, packageRoot));
  return [process.execPath, entry, '--channel', channel];
}
