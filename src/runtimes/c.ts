/**
 * C children, shipped as source and built on first use with the gcc on PATH.
 * The binary is cached under `<package>/.cache/c/<hash>/` where the hash
 * covers the source, the flags and the compiler's version, so an edit or a
 * new gcc builds again and nothing else does. A build that cannot happen here
 * is one line naming what to install (exit 3).
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../errors.js';
import { findOnPath, isExecutableFile } from '../util/find-executable.js';

// Loaded on first build, not at start-up: every scenario imports this module, and `repro list` builds nothing.
const nodeRequire = createRequire(import.meta.url);
const childProcess = () => nodeRequire('node:child_process') as typeof import('node:child_process');
const crypto = () => nodeRequire('node:crypto') as typeof import('node:crypto');

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a failed build lacks, as one line with the Debian package to install. */
export function buildFailure(stderr: string, libraries: readonly string[]): string {
  for (const lib of libraries) {
    const name = lib.replace(/^-l/, '');
    if (stderr.includes(`lib${name}.h`) || stderr.includes(`cannot find -l${name}`) || stderr.includes(`${name}.h: No such file`)) {
      return `lib${name} is missing; install it (Debian: apt-get install lib${name}-dev)`;
    }
  }
  const first = stderr.split('\n').find((l) => l.includes('error')) ?? stderr.trim().split('\n')[0] ?? 'no output';
  return `gcc could not build the child: ${first.trim()}`;
}

/**
 * The argv of a C child: `file` (relative to the package root) compiled with
 * `libraries` (e.g. `-luring`), then `args`. Builds on first use.
 */
export function cChild(file: string, args: readonly string[], libraries: readonly string[] = []): string[] {
  const gcc = findOnPath('gcc');
  if (!gcc) throw new EnvironmentError('--runtime c: no gcc on PATH; install it (Debian: apt-get install gcc)');
  const source = join(PACKAGE_ROOT, file);
  const flags = ['-O2', '-Wall', '-std=gnu11'];
  const version = childProcess().execFileSync(gcc, ['-dumpfullversion', '-dumpversion'], { encoding: 'utf8' }).trim();
  const hash = crypto().createHash('sha256')
    .update(readFileSync(source))
    .update(JSON.stringify([flags, libraries, version]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(PACKAGE_ROOT, '.cache', 'c', hash);
  const binary = join(dir, basename(file, '.c'));
  if (!isExecutableFile(binary)) {
    mkdirSync(dir, { recursive: true });
    // Build beside the target and rename: two runs building at once never see half a binary.
    const partial = `${binary}.${process.pid}.tmp`;
    const built = childProcess().spawnSync(gcc, [...flags, '-o', partial, source, ...libraries], { encoding: 'utf8' });
    if (built.status !== 0) {
      rmSync(partial, { force: true });
      throw new EnvironmentError(`--runtime c: ${buildFailure(`${built.stderr ?? ''}${built.error?.message ?? ''}`, libraries)}`);
    }
    renameSync(partial, binary);
  }
  return [binary, ...args];
}
