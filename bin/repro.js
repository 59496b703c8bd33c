#!/usr/bin/env node
// Thin launcher: the compiled, bundled CLI lives in dist/bundle/ (built by `npm ci` through the prepare script).
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv.slice(2));
