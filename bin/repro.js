#!/usr/bin/env node
// Thin launcher: the compiled, bundled CLI lives in dist/bundle/ (built by `npm ci` through the prepare script).
// The plainest one-shot commands (--version, list, probe PID) run on a fast path that loads neither
// commander nor the option table; everything else loads the full CLI.
import { runFast } from '../dist/bundle/fast.js';

const argv = process.argv.slice(2);
process.exitCode = (await runFast(argv)) ?? (await (await import('../dist/bundle/main.js')).main(argv));
