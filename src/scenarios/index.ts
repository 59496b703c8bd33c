/** The scenarios repro knows: one line each. Adding a scenario is adding its folder and a line here. */
import { gracefulDrain } from './graceful-drain/scenario.js';
import { queueDrain } from './queue-drain/scenario.js';
import { logReopen } from './log-reopen/scenario.js';
import { reloadUnderLoad } from './reload-under-load/scenario.js';
import { runtimeTeardown } from './runtime-teardown/scenario.js';
import { stateOnShutdown } from './state-on-shutdown/scenario.js';
import { signalDuringRequest } from './signal-during-request/scenario.js';
import { sighupListener } from './sighup-listener/scenario.js';
import { sigchldReap } from './sigchld-reap/scenario.js';
import { signalCoalescing } from './signal-coalescing/scenario.js';
import { signalSafety } from './signal-safety/scenario.js';
import type { Scenario } from './types.js';

export const SCENARIOS: readonly Scenario[] = [
  sighupListener,
  logReopen,
  runtimeTeardown,
  gracefulDrain,
  reloadUnderLoad,
  sigchldReap,
  signalCoalescing,
  signalSafety,
  queueDrain,
  stateOnShutdown,
  signalDuringRequest,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
