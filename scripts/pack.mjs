// Packs repro for installing into another project: `npm run tarball` writes repro-<version>.tgz
// (into --pack-destination DIR, the checkout by default) and prints its path.
//
// The checkout's package.json declares no bin: if it did, `npx repro` in the checkout would
// install the checkout into ~/.npm/_npx and run prepare (tsc + esbuild) there instead of
// running node_modules/.bin/repro, which the bin/ workspace links. So the packed package is
// staged here, with the bin the workspace declares and only what a run needs: the built
// dist/ (no source maps: their sources are not shipped), the schemas, the children that are
// built or run from source (Python, C, Rust), the launcher, the README and the text of docs/. A plain `npm pack`
// in the checkout is refused (prepack) because its package would have no `repro` command (and
// the script is not called `pack`: `npm run pack` would run prepack first).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

if (process.argv[2] === '--refuse') {
  process.stderr.write('repro: `npm pack` here would make a package without its `repro` command; run `npm run tarball` (scripts/pack.mjs), which adds it.\n');
  process.exit(1);
}

const destAt = process.argv.indexOf('--pack-destination');
const dest = resolve(destAt > 0 ? process.argv[destAt + 1] : root);

for (const needed of ['dist/bundle/main.js', 'dist/bundle/fast.cjs', 'dist/bundle/catalog.json', 'dist/scenarios', 'schema/run-document.schema.json']) {
  if (!existsSync(join(root, needed))) {
    process.stderr.write(`repro: ${needed} is missing: build first (npm run build)\n`);
    process.exit(1);
  }
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const launcher = JSON.parse(readFileSync(join(root, 'bin/package.json'), 'utf8'));
const bin = Object.fromEntries(Object.entries(launcher.bin).map(([name, file]) => [name, `bin/${file}`]));
const packed = {
  name: manifest.name,
  version: manifest.version,
  description: manifest.description,
  license: manifest.license,
  // Not for a registry: installed from the tarball (npm installs a private package from a file all the same).
  private: true,
  type: manifest.type,
  bin,
  engines: manifest.engines,
  dependencies: manifest.dependencies,
};

const stage = mkdtempSync(join(tmpdir(), 'repro-pack-'));
try {
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(packed, null, 2)}\n`);
  for (const file of Object.values(bin)) cpSync(join(root, file), join(stage, file));
  // The launcher is CommonJS (the start-up fast path never loads the ESM loader); the package itself is ESM.
  writeFileSync(join(stage, 'bin/package.json'), `${JSON.stringify({ type: launcher.type }, null, 2)}\n`);
  cpSync(join(root, 'README.md'), join(stage, 'README.md'));
  // The README points into docs/ (the reference, the scenarios, the glossary --help names): its text, not its pictures.
  cpSync(join(root, 'docs'), join(stage, 'docs'), { recursive: true, filter: (from) => !/\.(svg|png|html|json)$/.test(from) });
  cpSync(join(root, 'schema'), join(stage, 'schema'), { recursive: true });
  cpSync(join(root, 'dist'), join(stage, 'dist'), { recursive: true, filter: (from) => !from.endsWith('.map') });
  // The TypeScript is in dist/ compiled; what is left under src/ is what runs or builds from source.
  cpSync(join(root, 'src'), join(stage, 'src'), { recursive: true, filter: (from) => !from.endsWith('.ts') && !/\/target(\/|$)/.test(from) });
  const out = execFileSync('npm', ['pack', stage, '--pack-destination', dest, '--json', '--loglevel', 'error'], { encoding: 'utf8' });
  const [{ filename, size, unpackedSize, entryCount }] = JSON.parse(out);
  process.stderr.write(`repro: ${entryCount} files, ${(size / 1024).toFixed(0)} kB packed, ${(unpackedSize / 1024).toFixed(0)} kB unpacked\n`);
  process.stdout.write(`${join(dest, filename)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
