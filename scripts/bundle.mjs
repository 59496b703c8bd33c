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
// command as one CommonJS file of its own (.cjs), not split into shared chunks. bin/repro.js is
// CommonJS too (bin/package.json), so these commands never load Node's ESM loader, which costs
// about 15 ms of CPU before the first line runs (an empty .mjs against an empty .cjs, measured);
// only the full CLI (main.js, ESM) loads it, through import(). Each file's `node:` requires load
// when it runs, so `--version` must not share a file with list's runtimes or the probe.
// fast.cjs requires the other two by their path.
const fastSiblings = {
  name: 'fast-siblings',
  setup(b) {
    b.onResolve({ filter: /^\.\/fast-(list|probe)\.js$/ }, (args) => ({ path: args.path.replace(/\.js$/, '.cjs'), external: true }));
  },
};
// createRequire(import.meta.url) is the file's own require in CommonJS; node:module itself would
// load the ESM loader's modules (it exports register()).
const ownRequire = {
  name: 'own-require',
  setup(b) {
    b.onResolve({ filter: /^node:module$/ }, () => ({ path: 'node:module', namespace: 'own-require' }));
    b.onLoad({ filter: /.*/, namespace: 'own-require' }, () => ({ contents: 'export const createRequire = () => require;', loader: 'js' }));
  },
};
await build({
  entryPoints: ['fast', 'fast-list', 'fast-probe'].map((name) => ({ in: new URL(`../dist/cli/${name}.js`, import.meta.url).pathname, out: name })),
  bundle: true,
  splitting: false,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  platform: 'node',
  target: 'node20',
  outdir,
  external: ['koffi'],
  plugins: [fastSiblings, ownRequire],
  // fast.ts's import() of its siblings becomes require(): an import() would load the ESM loader after all.
  supported: { 'dynamic-import': false },
  // import.meta.url (paths relative to the file, createRequire) as CommonJS has it.
  define: { 'import.meta.url': '__reproFileUrl' },
  banner: { js: "const __reproFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The scenario catalog for the fast `repro list` (fast-list.ts): what the registry says of each
// scenario, written once here so a list loads no scenario module (their trial logic and children).
const { scenarioCatalog } = await import(new URL('../dist/cli/commands/list.js', import.meta.url).href);
writeFileSync(new URL('catalog.json', `file://${outdir}`), `${JSON.stringify(scenarioCatalog())}\n`);
