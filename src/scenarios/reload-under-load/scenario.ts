/**
 * reload-under-load: SIGHUP while requests flow. An HTTP server on 127.0.0.1
 * is put under load (the drain's careful clients) from readiness to after
 * the last reload, and every request is counted in the window of the reload
 * it fell in (`repro watch --url`'s driver).
 * - close-relisten (broken): the reload closes the listening socket and
 *   listens again: connections in the gap are refused;
 * - reexec (broken, Python): the reload re-execs the program, whose listening
 *   socket is close-on-exec: refused until the new image binds, and the
 *   connections the old image had accepted are cut;
 * - keep (correct): the listening socket stays, only the configuration is
 *   swapped: not one request lost.
 * Each child acknowledges its reloads with the protocol's `reload` event,
 * which is what shows the correct child's reload took effect (nothing in
 * /proc changes when only a configuration is swapped).
 */
import { nodeChild, pythonChild } from '../../runtimes/index.js';
import type { Expectation } from '../../model/run-document.js';
import type { Role, Scenario } from '../types.js';

const roles: readonly Role[] = [
  { name: 'close-relisten', kind: 'broken', summary: 'closes the listening socket on SIGHUP and listens again: connections in the gap are refused' },
  { name: 'reexec', kind: 'broken', summary: 're-execs itself on SIGHUP without handing the listening socket over: refused until the new image listens', runtimes: ['python'] },
  { name: 'keep', kind: 'correct', summary: 'keeps the listening socket and swaps only the configuration: not one request lost' },
];

/** Reloads a run sends when --reloads is not given: each takes a reload's effect and a window of load, so 500 would take minutes. */
export const RELOADS_UNDER_LOAD = 10;

export const reloadUnderLoad: Scenario = {
  name: 'reload-under-load',
  summary: 'SIGHUP with requests flowing: closing the listener and listening again, or re-exec without handing it over, refuses requests; keeping the listening socket loses none',
  signal: 'SIGHUP',
  roles,
  runtimes: ['python', 'node'],
  options: [],
  metrics: [],
  driver: 'reload-under-load',
  reloadsDefault: RELOADS_UNDER_LOAD,
  async command(role, runtime) {
    if (runtime === 'python') return pythonChild('src/scenarios/reload-under-load/python/server.py', ['--mode', role.name]);
    if (runtime !== 'node' || role.name === 'reexec') throw new Error(`no ${runtime} child for ${role.name}`);
    return nodeChild('scenarios/reload-under-load/node/server.js', ['--mode', role.name]);
  },
  listenArgs: (port) => ['--port', String(port)],
  expect(role, _options, { maxGrowth }): Expectation {
    const base = {
      gate: 'survivors' as const,
      fdsPerReload: 0,
      maxGrowth: Math.max(maxGrowth, 0.1),
      registerFailure: 'forbidden' as const,
      flatMetrics: [],
      growingMetrics: [],
      allReloads: true,
      earlyIsInconclusive: false,
    };
    if (role.kind === 'correct') return { ...base, shows: 'not one request lost across the reloads, no fd surviving', reloadLoad: { maxLost: 0 } };
    return { ...base, shows: 'requests refused during the reloads', reloadLoad: { maxLost: 0, expectLoss: 'refused' } };
  },
};
