/**
 * A scenario role under load through its reloads (driver `reload-under-load`):
 * the child gets a free port of 127.0.0.1 to listen on, and runs under the
 * watch driver with the load of `repro watch --url` (settle-loop.ts,
 * reload-load.ts): each reload known done by its effect, every request in
 * the window of its reload, the load stopped before the final sample.
 */
import { createServer } from 'node:net';
import type { DriverHooks } from '../../core/lifecycle.js';
import type { MeasuredRun } from '../../model/run-document.js';
import type { ReloadLoopPlan } from './reload-loop.js';
import { runSettleLoop } from './settle-loop.js';

/** Concurrent clients of a scenario's load (as watch --url's default). */
export const SCENARIO_CONCURRENCY = 8;

/** A port nothing listens on right now, on 127.0.0.1 (the kernel's choice, released at once). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface UnderLoadPlan {
  /** The port the child was told to listen on. */
  port: number;
}

/** Runs one role: its child (already given `port`) under the watch driver with the load on http://127.0.0.1:PORT/. */
export async function runUnderLoad(plan: ReloadLoopPlan, load: UnderLoadPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  const url = `http://127.0.0.1:${load.port}/`;
  return runSettleLoop(
    {
      scenario: plan.scenario,
      role: plan.role,
      roleKind: plan.roleKind,
      runtime: plan.runtime,
      options: plan.options,
      metrics: [],
      command: plan.command,
      ulimit: plan.ulimit,
      signal: plan.signal,
      reloadsPlanned: plan.reloadsPlanned,
      settleMs: 100,
      settleTimeoutMs: Math.max(5000, plan.ackTimeoutMs),
      readyTimeoutMs: plan.readyTimeoutMs,
      graceMs: plan.graceMs,
      load: { url, host: '127.0.0.1', port: load.port, path: '/', concurrency: SCENARIO_CONCURRENCY, method: 'GET', readyTimeoutMs: plan.readyTimeoutMs },
    },
    hooks,
  );
}
