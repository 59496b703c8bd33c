/**
 * npm run screenshot [-- --out DIR]: makes the report pictures from real runs
 * and renders them in headless Chromium (Debian: apt-get install chromium),
 * so a person can look at what the SVG and HTML views really show.
 *
 * Writes to DIR (default: a new temporary directory, printed, so a plain run
 * leaves the work tree clean; `--out docs/img` refreshes the README's
 * pictures on purpose): compare.svg and compare-report.png (the
 * HTML report) from `repro compare`; leak-report.png from `repro watch` on a
 * Python service that leaks a pipe per SIGHUP and dies of EMFILE;
 * compare-chart.png, the SVG as a browser draws it. The HTML files themselves
 * go to a temporary directory, removed at the end.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { findOnPath } from '../src/util/find-executable.js';

const BIN = fileURLToPath(new URL('../bin/repro.js', import.meta.url));
const SERVICE = fileURLToPath(new URL('../test/fixtures/services/leaks-pipe-per-hup.py', import.meta.url));
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex > 0 ? (process.argv[outIndex + 1] as string) : mkdtempSync(join(tmpdir(), 'repro-screenshots-')));

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].map((name) => findOnPath(name)).find(Boolean);
if (!chromium) {
  console.error('screenshot: no chromium on PATH; install it (Debian: apt-get install chromium) and run again');
  process.exit(3);
}
mkdirSync(out, { recursive: true });

async function repro(args: string[]): Promise<void> {
  // Exit 1 is the leak verdict the watch run is meant to show; anything else is a broken run.
  const result = await execa(process.execPath, [BIN, ...args], { reject: false, stdin: 'ignore', env: { GITHUB_STEP_SUMMARY: '' } });
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`repro ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
}

async function shoot(file: string, png: string, width: number, height: number): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'repro-chromium-'));
  try {
    await execa(
      chromium as string,
      ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`, `--window-size=${width},${height}`, `--screenshot=${png}`, pathToFileURL(file).href],
      { timeout: 60_000, forceKillAfterDelay: 2000, stdin: 'ignore' },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(`wrote ${png}`);
}

const pages = mkdtempSync(join(tmpdir(), 'repro-pages-'));
try {
  await repro(['compare', '--no-chart', '--svg', join(out, 'compare.svg'), '--html', join(pages, 'compare.html')]);
  await repro(['watch', '--ulimit', '32', '--reloads', '30', '--settle', '60', '--no-chart', '--html', join(pages, 'leak.html'), '--', 'python3', SERVICE]);
  await shoot(join(out, 'compare.svg'), join(out, 'compare-chart.png'), 992, 380);
  await shoot(join(pages, 'compare.html'), join(out, 'compare-report.png'), 1040, 1500);
  await shoot(join(pages, 'leak.html'), join(out, 'leak-report.png'), 1040, 1500);
} finally {
  rmSync(pages, { recursive: true, force: true });
}
