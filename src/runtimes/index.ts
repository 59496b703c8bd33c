/** The runtimes scenario children are written for: where each is found, and why it cannot run here when it cannot. */
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../errors.js';
import { findOnPath } from '../util/find-executable.js';
import { DEBIAN_REGISTRY, installHint, missingForBuild, rustProjectFor } from './cargo.js';

export interface Runtime {
  name: string;
  /** Why it cannot run here (one line with what to install), or null when it can; `scenario` narrows it to what that scenario's children need. */
  unavailable(scenario?: string): string | null;
}

const PYTHON = 'python3';

export const RUNTIMES: Record<string, Runtime> = {
  node: { name: 'node', unavailable: () => null },
  python: { name: 'python', unavailable: () => (findOnPath(PYTHON) ? null : 'no python3 on PATH; install it (Debian: apt-get install python3)') },
  c: { name: 'c', unavailable: () => (findOnPath('gcc') ? null : 'no gcc on PATH; install it (Debian: apt-get install gcc liburing-dev)') },
  rust: {
    name: 'rust',
    unavailable: (scenario) => {
      const project = rustProjectFor(scenario);
      const missing = missingForBuild(DEBIAN_REGISTRY, process.env, project.crates);
      return missing.length ? installHint(missing, project.packages) : null;
    },
  },
};

/** Throws the runtime's one line (exit 3) when it cannot run here (for `scenario`'s children, when given). */
export function requireRuntime(name: string, scenario?: string): void {
  const runtime = RUNTIMES[name];
  const why = runtime ? runtime.unavailable(scenario) : `no runtime named ${name}`;
  if (why) throw new EnvironmentError(`--runtime ${name}: ${why}`);
}

const PACKAGE_ROOT = new URL('../../', import.meta.url);

/**
 * A compiled Node child: children always run the JavaScript in dist/ with
 * plain node (tsx start-up is ~3× node's), also when the harness itself runs
 * from src/ under the test runner. `entry` is relative to dist/.
 */
export function nodeChild(entry: string, args: readonly string[] = []): string[] {
  return [process.execPath, fileURLToPath(new URL(`dist/${entry}`, PACKAGE_ROOT)), ...args];
}

/** A Python child shipped as source, relative to the package root. */
export function pythonChild(file: string, args: readonly string[] = []): string[] {
  return [findOnPath(PYTHON) ?? PYTHON, fileURLToPath(new URL(file, PACKAGE_ROOT)), ...args];
}
