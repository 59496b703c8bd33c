/**
 * sigchld-reap: a server that forks short-lived children and reaps them from
 * its SIGCHLD handler. Standard signals coalesce (one pending SIGCHLD stands
 * for any number of exits), so a handler that calls waitpid() once per
 * signal leaves zombies after every burst; the fix loops
 * waitpid(-1, WNOHANG) until it finds none. A trials scenario: each trial
 * is one burst on a fresh server, zombies counted from outside.
 * Node has no child: libuv reaps every child itself, so the bug cannot be written in it.
 */
import { cChild } from '../../runtimes/c.js';
import { pythonChild } from '../../runtimes/index.js';
import { staysFlat } from '../expect.js';
import type { Role, Scenario } from '../types.js';
import { BURST_CHILDREN, sigchldTrial } from './trial.js';

const roles: readonly Role[] = [
  { name: 'broken', kind: 'broken', summary: 'calls waitpid() once per SIGCHLD: coalesced signals leave zombies' },
  { name: 'correct', kind: 'correct', summary: 'loops waitpid(-1, WNOHANG) until no child is left to reap' },
];

export const sigchldReap: Scenario = {
  name: 'sigchld-reap',
  summary: 'waitpid once per SIGCHLD: coalesced signals leave zombies after a burst of exits; loop waitpid(-1, WNOHANG)',
  signal: 'SIGCHLD',
  roles,
  runtimes: ['c', 'python'],
  options: [],
  metrics: [],
  driver: 'trials',
  trial: sigchldTrial,
  async command(role, runtime) {
    const args = [role.name, String(BURST_CHILDREN)];
    if (runtime === 'c') return cChild('src/scenarios/sigchld-reap/c/server.c', args);
    return pythonChild('src/scenarios/sigchld-reap/python/server.py', args);
  },
  expect(role) {
    const broken = role.kind === 'broken';
    return staysFlat(broken ? 'zombies left after every burst' : 'every child reaped after every burst', 0, {
      allReloads: false,
      trials: { outcome: broken ? 'zombies-left' : 'all-reaped', minTrials: 1 },
    });
  },
};
