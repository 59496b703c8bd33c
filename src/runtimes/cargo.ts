/**
 * The Rust children (sighup-listener's, graceful-drain's), built on first use with cargo against
 * the crates Debian packages (/usr/share/cargo/registry), offline, and cached
 * under the package by a hash of their sources and of the crates on the system:
 * edit a .rs file or upgrade librust-tokio-dev and the next use rebuilds. Two
 * repro processes building at once each build in their own temporary directory
 * and rename the result into place; the first rename wins, the other is dropped.
 */
import { createRequire } from 'node:module';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, ExitCode, ReproError } from '../errors.js';
import { findOnPath, isExecutableFile } from '../util/find-executable.js';

// Loaded on first build, not at start-up: every scenario with a Rust child imports this module, and `repro list` builds nothing.
const nodeRequire = createRequire(import.meta.url);
const childProcess = () => nodeRequire('node:child_process') as typeof import('node:child_process');
const crypto = () => nodeRequire('node:crypto') as typeof import('node:crypto');
const fsp = () => nodeRequire('node:fs/promises') as typeof import('node:fs/promises');

/** Paths of the three built children. */
export interface RustChildren {
  /** signal_hook::iterator::Signals per reload, kept: +2 fds per reload to EMFILE. */
  broken: string;
  /** The write-up's tokio::signal::unix::signal() per reload, held by a task forever. */
  tokioPerReload: string;
  /** One signal() per process, fanned out with tokio::sync::broadcast; shutdown() on SIGTERM. */
  correct: string;
}

export interface EnsureRustOptions {
  /** Where built children are cached; `<package>/.cache/rust` by default. */
  cacheDir?: string;
  /** The cargo project's directory; the project's own by default. */
  sourceDir?: string;
  /** The Debian crate registry used as the only source. */
  registryDir?: string;
  /** Environment for finding and running cargo (PATH); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Called once before a build starts (it takes seconds): say so to the user. */
  onBuild?: (message: string) => void;
  /** Ctrl-C: stops cargo and ends with an interruption (exit 130). */
  abort?: AbortSignal;
}

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_CACHE_DIR = join(PACKAGE_ROOT, '.cache/rust');
export const DEBIAN_REGISTRY = '/usr/share/cargo/registry';

/** A cargo project of children: where its sources are, the binaries it makes, the Debian crates it needs. */
export interface RustProject {
  sourceDir: string;
  /** Binary names (`src/bin/<name>.rs`). */
  binaries: readonly string[];
  /** Crate directory prefix in the registry → the Debian package that installs it. */
  crates: ReadonlyArray<readonly [string, string]>;
  /** The packages the install hint names, in order. */
  packages: readonly string[];
}

export const SIGHUP_LISTENER_PROJECT: RustProject = {
  sourceDir: join(PACKAGE_ROOT, 'src/scenarios/sighup-listener/rust'),
  binaries: ['broken', 'tokio_per_reload', 'correct'],
  crates: [
    ['tokio-1.', 'librust-tokio-dev'],
    ['signal-hook-0.3.', 'librust-signal-hook-dev'],
    ['signal-hook-registry-1.', 'librust-signal-hook-dev'],
    ['libc-0.2.', 'librust-libc-dev'],
  ],
  packages: ['librust-tokio-dev', 'librust-signal-hook-dev'],
};

/** graceful-drain's servers: hyper 0.14 on tokio, tokio-util's CancellationToken. */
export const GRACEFUL_DRAIN_PROJECT: RustProject = {
  sourceDir: join(PACKAGE_ROOT, 'src/scenarios/graceful-drain/rust'),
  binaries: ['correct', 'exit_at_once', 'keeps_accepting', 'drains_forever'],
  crates: [
    ['tokio-1.', 'librust-tokio-dev'],
    ['tokio-macros-1.', 'librust-tokio-dev'],
    ['tokio-util-0.7.', 'librust-tokio-util-dev'],
    ['hyper-0.14.', 'librust-hyper-dev'],
    ['libc-0.2.', 'librust-libc-dev'],
  ],
  packages: ['librust-tokio-dev', 'librust-tokio-util-dev', 'librust-hyper-dev'],
};

/** state-on-shutdown's service: tokio on one thread, a unix socket, SIGTERM by role. */
export const STATE_ON_SHUTDOWN_PROJECT: RustProject = {
  sourceDir: join(PACKAGE_ROOT, 'src/scenarios/state-on-shutdown/rust'),
  binaries: ['service'],
  crates: [
    ['tokio-1.', 'librust-tokio-dev'],
    ['tokio-macros-1.', 'librust-tokio-dev'],
    ['libc-0.2.', 'librust-libc-dev'],
  ],
  packages: ['librust-tokio-dev'],
};

export const DEFAULT_SOURCE_DIR = SIGHUP_LISTENER_PROJECT.sourceDir;

/** The cargo project of a scenario's Rust children (sighup-listener's when none is named). */
export function rustProjectFor(scenario: string | undefined): RustProject {
  if (scenario === 'state-on-shutdown') return STATE_ON_SHUTDOWN_PROJECT;
  return scenario === 'graceful-drain' ? GRACEFUL_DRAIN_PROJECT : SIGHUP_LISTENER_PROJECT;
}

/** Binary name in the cargo project → field of RustChildren. */
const BINARIES = { broken: 'broken', tokioPerReload: 'tokio_per_reload', correct: 'correct' } as const satisfies Record<keyof RustChildren, string>;

function listWords(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1) as string}`;
}

/** The one line that says what to install, naming what is missing. */
export function installHint(missing: readonly string[], packages: readonly string[] = SIGHUP_LISTENER_PROJECT.packages): string {
  return `the rust runtime needs cargo and Debian's ${listWords(packages)} (missing: ${missing.join(', ')}); install them with: apt-get install -y cargo ${packages.join(' ')}`;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function registryEntries(registryDir: string): string[] {
  try {
    return readdirSync(registryDir).sort();
  } catch {
    return [];
  }
}

/** The cargo project's files that make the binaries: Cargo.toml, build.rs and src/. */
function projectFiles(sourceDir: string): string[] {
  const top = ['Cargo.toml', 'build.rs'].map((f) => join(sourceDir, f)).filter((f) => existsSync(f));
  return [...top, ...listFiles(join(sourceDir, 'src'))].map((f) => relative(sourceDir, f)).sort();
}

/**
 * Cache key: the project's file names and contents, and the crate versions the
 * registry holds (its directory names). Timestamps do not count.
 */
export function sourceHash(sourceDir: string, registryDir: string = DEBIAN_REGISTRY): string {
  const hash = crypto().createHash('sha256');
  for (const file of projectFiles(sourceDir)) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(sourceDir, file)));
    hash.update('\0');
  }
  hash.update(registryEntries(registryDir).join('\n'));
  return hash.digest('hex').slice(0, 16);
}

/** Binary name → its path in `dir`, when every binary is there. */
function builtIn(dir: string, binaries: readonly string[]): Record<string, string> | undefined {
  const paths = Object.fromEntries(binaries.map((bin) => [bin, join(dir, bin)]));
  return Object.values(paths).every((p) => isExecutableFile(p)) ? paths : undefined;
}

/** What is missing to build here, as cargo and Debian package names; empty when nothing is. */
export function missingForBuild(registryDir: string, env: NodeJS.ProcessEnv, crates: RustProject['crates'] = SIGHUP_LISTENER_PROJECT.crates): string[] {
  const missing: string[] = [];
  if (!findOnPath('cargo', env.PATH ?? '')) missing.push('cargo');
  const entries = registryEntries(registryDir);
  for (const [prefix, pkg] of crates) {
    if (!entries.some((e) => e.startsWith(prefix)) && !missing.includes(pkg)) missing.push(pkg);
  }
  return missing;
}

/** Debian's registry as the only source, offline; written into the build copy, never ~/.cargo. */
function cargoConfig(registryDir: string): string {
  return [
    '[source.crates-io]',
    'replace-with = "debian-packages"',
    '[source.debian-packages]',
    `directory = ${JSON.stringify(registryDir)}`,
    '[net]',
    'offline = true',
    '',
  ].join('\n');
}

const BUILD_TIMEOUT_MS = 10 * 60_000;

/** Runs cargo in `projectDir`, its output into `logPath`; resolves with the exit code (or a spawn error). */
function runCargo(projectDir: string, targetDir: string, logPath: string, env: NodeJS.ProcessEnv, abort?: AbortSignal): Promise<{ code: number | null; error?: string }> {
  return new Promise((resolve) => {
    const log = createWriteStream(logPath);
    // Its own process group, so Ctrl-C can stop cargo and every rustc it started at once.
    const child = childProcess().spawn('cargo', ['build', '--release', '--offline', '--bins'], {
      cwd: projectDir,
      env: { ...env, CARGO_TARGET_DIR: targetDir, CARGO_TERM_COLOR: 'never' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stop = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    abort?.addEventListener('abort', stop, { once: true });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    let spawnError: string | undefined;
    child.on('error', (error) => {
      spawnError = error.message;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      abort?.removeEventListener('abort', stop);
      log.end(() => resolve({ code, error: spawnError }));
    });
  });
}

/** The line of cargo's output that says what went wrong: its first `error`, else its last line. */
export function summariseCargoLog(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => l.startsWith('error')) ?? lines.at(-1) ?? 'no output';
}

/** Work directories of builds killed before they could clean up (older than any build may take). */
async function removeAbandonedBuilds(cacheDir: string): Promise<void> {
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith('.build-')) continue;
    const path = join(cacheDir, name);
    try {
      if (Date.now() - (await fsp().stat(path)).mtimeMs > BUILD_TIMEOUT_MS) await fsp().rm(path, { recursive: true, force: true });
    } catch {
      // gone already, or another build's: leave it
    }
  }
}

async function build(project: RustProject, sourceDir: string, cacheDir: string, finalDir: string, hash: string, options: EnsureRustOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const registryDir = options.registryDir ?? DEBIAN_REGISTRY;
  const missing = missingForBuild(registryDir, env, project.crates);
  if (missing.length > 0) throw new EnvironmentError(installHint(missing, project.packages));
  try {
    await fsp().mkdir(cacheDir, { recursive: true });
  } catch (error) {
    throw new EnvironmentError(`cannot create the rust build cache ${cacheDir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  await removeAbandonedBuilds(cacheDir);
  options.onBuild?.(`building the rust children with cargo (first use, cached in ${cacheDir})`);
  const work = await fsp().mkdtemp(join(cacheDir, `.build-${hash}-`));
  try {
    // A copy, so the Cargo.lock cargo writes and the .cargo/config.toml stay out of the sources.
    const projectDir = join(work, 'project');
    await fsp().mkdir(projectDir);
    for (const file of projectFiles(sourceDir)) {
      await fsp().mkdir(join(projectDir, file, '..'), { recursive: true });
      await fsp().copyFile(join(sourceDir, file), join(projectDir, file));
    }
    await fsp().mkdir(join(projectDir, '.cargo'));
    await fsp().writeFile(join(projectDir, '.cargo/config.toml'), cargoConfig(registryDir));
    const log = join(work, 'cargo.log');
    const result = await runCargo(projectDir, join(work, 'target'), log, env, options.abort);
    if (options.abort?.aborted) throw new ReproError('interrupted during the first-use build of the rust children (cargo stopped; nothing was run)', ExitCode.INTERRUPTED);
    if (result.code !== 0) {
      const kept = join(cacheDir, `build-${hash}-failed.log`);
      await fsp().rename(log, kept);
      const why = result.error ?? summariseCargoLog(await fsp().readFile(kept, 'utf8'));
      throw new EnvironmentError(`building the rust children failed: ${why} (cargo's output: ${kept})`);
    }
    const out = join(work, 'out');
    await fsp().mkdir(out);
    for (const bin of project.binaries) await fsp().copyFile(join(work, 'target/release', bin), join(out, bin));
    try {
      await fsp().rename(out, finalDir);
    } catch (error) {
      // Another repro built the same sources first: theirs is as good as ours.
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !builtIn(finalDir, project.binaries)) throw error;
    }
  } finally {
    // A compiler killed a moment ago may still be removing its files: retry instead of failing on ENOTEMPTY.
    await fsp().rm(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/**
 * The paths of a project's binaries (by binary name), building them first if
 * the cache has no build of the current sources. Throws EnvironmentError (exit 3)
 * with one line when cargo or the Debian crates are missing, or when the build
 * fails (then naming the kept log of cargo's output).
 */
export async function ensureRustBinaries(project: RustProject, options: EnsureRustOptions = {}): Promise<Record<string, string>> {
  const sourceDir = options.sourceDir ?? project.sourceDir;
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const env = options.env ?? process.env;
  if (!existsSync(join(sourceDir, 'Cargo.toml'))) throw new EnvironmentError(`the rust children's sources are missing (${sourceDir}): reinstall repro`);
  const hash = sourceHash(sourceDir, options.registryDir ?? DEBIAN_REGISTRY);
  const finalDir = join(cacheDir, hash);
  const cached = builtIn(finalDir, project.binaries);
  if (cached) return cached;
  await build(project, sourceDir, cacheDir, finalDir, hash, options, env);
  const built = builtIn(finalDir, project.binaries);
  if (!built) throw new EnvironmentError(`the rust build finished but ${finalDir} has no children in it: remove it and run again`);
  return built;
}

/** True when the cache already holds a build of the project's current sources (nothing is built). */
export function rustBuilt(project: RustProject, options: Pick<EnsureRustOptions, 'cacheDir' | 'registryDir'> = {}): boolean {
  if (!existsSync(join(project.sourceDir, 'Cargo.toml'))) return false;
  const hash = sourceHash(project.sourceDir, options.registryDir ?? DEBIAN_REGISTRY);
  return builtIn(join(options.cacheDir ?? DEFAULT_CACHE_DIR, hash), project.binaries) !== undefined;
}

/** The paths of sighup-listener's three Rust children (see ensureRustBinaries). */
export async function ensureRustChildren(options: EnsureRustOptions = {}): Promise<RustChildren> {
  const built = await ensureRustBinaries(SIGHUP_LISTENER_PROJECT, options);
  return Object.fromEntries(Object.entries(BINARIES).map(([key, bin]) => [key, built[bin]])) as unknown as RustChildren;
}
