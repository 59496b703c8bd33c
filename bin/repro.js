#!/bin/sh
":" //; if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then REPRO_LAUNCHER_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export REPRO_LAUNCHER_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; fi; exec node "$0" "$@" #
// Thin launcher, CommonJS (bin/package.json): the compiled, bundled CLI lives in dist/bundle/
// (built by `npm ci` through the prepare script).
//
// Run as a command (`repro`, `npx repro`), the line above is sh: Node 20 reads and parses every
// certificate of NODE_EXTRA_CA_CERTS when it starts, whatever the program (44 ms on this machine
// class, which sets it), and repro makes no TLS connection, so sh hands this file to node without
// it, in REPRO_LAUNCHER_EXTRA_CA_CERTS, and the first lines below put it back for the processes
// repro starts. Run as `node bin/repro.js`, Node skips the #! line and the line above is a string
// and a comment. (The `#` ending the sh line keeps a stray CR there, from a CRLF checkout, out of
// node's arguments.)
//
// The plainest one-shot commands (--version, list, probe PID) run on a fast path (CommonJS, so
// Node's ESM loader is never loaded for them) that loads neither commander nor the option table;
// everything else imports the full CLI.
'use strict';
const extraCa = process.env.REPRO_LAUNCHER_EXTRA_CA_CERTS;
delete process.env.REPRO_LAUNCHER_EXTRA_CA_CERTS;
// Only what the sh line moved aside: the variable is unset then (never over a value given to `node bin/repro.js`).
if (extraCa !== undefined && process.env.NODE_EXTRA_CA_CERTS === undefined) process.env.NODE_EXTRA_CA_CERTS = extraCa;
const { runFast } = require('../dist/bundle/fast.cjs');

const argv = process.argv.slice(2);
runFast(argv)
  .then(async (code) => code ?? (await (await import('../dist/bundle/main.js')).main(argv)))
  .then((code) => {
    process.exitCode = code;
  });
