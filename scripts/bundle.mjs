// Bundles the compiled CLI (dist/cli/main.js and what it imports, lazily loaded parts as
// chunks) into dist/bundle/, which bin/repro.js runs. One file to resolve and read instead
// of ~30 saves about 7 ms of start-up, which a one-shot `repro probe` feels. koffi stays
// external (it loads its native binary relative to its own package). The bundle sits at
// the same depth as dist/<dir>/<file>.js, so import.meta.url-relative paths (the schema,
// the children in dist/) resolve the same.
import { rmSync } from 'node:fs';
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
