// Bundles the compiled CLI (dist/cli/main.js and what it imports, lazily loaded parts as
// chunks) into dist/bundle/, which bin/repro.js runs. One file to resolve and read instead
// of ~30 saves about 7 ms of start-up, which a one-shot `repro probe` feels. koffi stays
// external (it loads its native binary relative to its own package). The bundle sits at
// the same depth as dist/<dir>/<file>.js, so import.meta.url-relative paths (the schema,
// the children in dist/) resolve the same.
import { rmSync, writeFileSync } from 'node:fs';
import { URL } from 'node:url';
import { build } from 'esbuild';

const outdir = new URL('../dist/bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: new URL('../dist/cli/main.js', import.meta.url).pathname },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  external: ['koffi'],
  // CommonJS dependencies (commander) call require(); ESM output has none unless given one.
  banner: { js: "import { createRequire as __reproRequire } from 'node:module'; const require = __reproRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The start-up fast path (--version, list, probe PID; src/cli/fast.ts): the dispatcher and each
// command as one file of its own, not split into shared chunks. Every module file the ESM loader
// opens costs about a millisecond (a one-shot probe opened about 15 chunks of the split bundle),
// and each file's `node:` imports load at link time, so `--version` must not share a file with
// list's runtimes (node:child_process, node:crypto). fast.js imports the other two by their path.
await build({
  entryPoints: ['fast', 'fast-list', 'fast-probe'].map((name) => ({ in: new URL(`../dist/cli/${name}.js`, import.meta.url).pathname, out: name })),
  bundle: true,
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  external: ['koffi', './fast-list.js', './fast-probe.js'],
  banner: { js: "import { createRequire as __reproRequire } from 'node:module'; const require = __reproRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The scenario catalog for the fast `repro list` (fast-list.ts): what the registry says of each
// scenario, written once here so a list loads no scenario module (their trial logic and children).
const { scenarioCatalog } = await import(new URL('../dist/cli/commands/list.js', import.meta.url).href);
writeFileSync(new URL('catalog.json', `file://${outdir}`), `${JSON.stringify(scenarioCatalog())}\n`);
