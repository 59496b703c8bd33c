#!/usr/bin/env node
// Thin launcher, CommonJS (bin/package.json): the compiled, bundled CLI lives in dist/bundle/
// (built by `npm ci` through the prepare script). The plainest one-shot commands (--version,
// list, probe PID) run on a fast path (CommonJS, so Node's ESM loader is never loaded for them)
// that loads neither commander nor the option table; everything else imports the full CLI.
'use strict';
const { runFast } = require('../dist/bundle/fast.cjs');

const argv = process.argv.slice(2);
runFast(argv)
  .then(async (code) => code ?? (await (await import('../dist/bundle/main.js')).main(argv)))
  .then((code) => {
    process.exitCode = code;
  });
