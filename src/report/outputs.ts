/**
 * Every output of a run, from one document: the summary, --json, and each
 * report file (--out, --svg, --html, --markdown, --junit, --csv), plus the
 * GitHub job summary. `-` means stdout; at most one output may claim it, and
 * then the summary goes to stderr so stdout stays machine-readable (a path
 * naming fd 1, such as `/dev/stdout`, counts as stdout). Every path is checked
 * before a run starts (not empty, no two outputs naming one file, its parent a
 * directory, writable); files are written atomically after it, devices and
 * FIFOs straight through; one failing write does not stop the others.
 */
import { UsageError } from '../errors.js';
import { checkBaseline } from '../kinds/baseline.js';
import { runsOf, withBaseline } from '../model/baseline.js';
import type { ReproDocument } from '../model/run-document.js';
import { loadDocument } from './load-document.js';
import { shownDocument } from './shown.js';
import { FORMAT_NAMES, REPORT_FORMATS, type ReportFormat, type ReportOptions } from './formats-list.js';
import { targetIdentity, type OutputTarget } from './output-target.js';
import { appendOutput, checkOutputPath, writeOutput } from './write-file.js';

export interface PreparedReports {
  baseline?: ReproDocument;
  /** The human summary goes to stderr: stdout carries a format. */
  summaryToStderr: boolean;
}

/** Resolves and checks every report path; two outputs naming one file (after links) are a usage error. */
function checkTargets(options: ReportOptions): Map<ReportFormat, OutputTarget> {
  const targets = new Map<ReportFormat, OutputTarget>();
  const seen = new Map<string, string>();
  for (const f of FORMAT_NAMES) {
    const path = options[f];
    if (path === undefined) continue;
    const { flag } = REPORT_FORMATS[f];
    const target = checkOutputPath(path, flag);
    targets.set(f, target);
    const identity = targetIdentity(target);
    if (identity === undefined || identity === 'stdout') continue;
    const other = seen.get(identity);
    if (other !== undefined) throw new UsageError(`${other} and ${flag} ${path} name the same file; give each output its own path`);
    seen.set(identity, `${flag} ${path}`);
  }
  return targets;
}

function stdoutClaims(options: ReportOptions, targets: Map<ReportFormat, OutputTarget>): string[] {
  return [...(options.json ? ['--json'] : []), ...FORMAT_NAMES.filter((f) => targets.get(f)?.kind === 'stdout').map((f) => `${REPORT_FORMATS[f].flag} ${options[f]}`)];
}

/**
 * Before the run: every report path resolved and writable, no two naming one
 * file, one output on stdout at most, the baseline readable and holding a run
 * this command will produce.
 */
export function prepareReports(options: ReportOptions, produces: readonly string[]): PreparedReports {
  const targets = checkTargets(options);
  const claims = stdoutClaims(options, targets);
  if (claims.length > 1) throw new UsageError(`${claims.join(' and ')} both write to stdout; send all but one to a file`);
  let baseline: ReproDocument | undefined;
  if (options.baseline !== undefined) {
    baseline = loadDocument(options.baseline, '--baseline');
    const has = runsOf(baseline).map((r) => r.role);
    if (!produces.some((p) => has.includes(p))) {
      throw new UsageError(`--baseline ${options.baseline} holds a ${has.join(' and ')} run, nothing to compare a ${produces.join('/')} run with; use a document from the same command`);
    }
  }
  return { baseline, summaryToStderr: claims.length === 1 && !options.json };
}

/** `shown`: the document as views get it (shownDocument), made once for every format of a run. */
async function render(format: ReportFormat, saved: ReproDocument, shown: () => ReproDocument): Promise<string> {
  // The JSON keeps every string as it was (JSON escapes control characters itself); every view gets them shown as text.
  if (format === 'out') return `${JSON.stringify(saved, null, 2)}\n`;
  const doc = shown();
  switch (format) {
    case 'svg':
      return (await import('./formats/svg.js')).renderSvg(doc);
    case 'html':
      return (await import('./formats/html.js')).renderHtml(doc);
    case 'markdown':
      return (await import('./formats/markdown.js')).renderMarkdown(doc);
    case 'junit':
      return (await import('./formats/junit.js')).renderJunit(doc);
    case 'csv':
      return (await import('./formats/csv.js')).renderCsv(doc);
  }
}

/** The document with the baseline check folded in, when there is a baseline. */
export function applyBaseline(doc: ReproDocument, options: ReportOptions, prepared: PreparedReports): ReproDocument {
  if (!prepared.baseline || options.baseline === undefined) return doc;
  const check = checkBaseline(doc, prepared.baseline, options.baseline, options.baselineTolerance);
  return check ? withBaseline(doc, check) : doc;
}

/**
 * Writes every output. The summary (or --json) is printed whatever the files
 * do; then each failed write's one line, in order, the last one thrown (exit 3).
 */
export async function emitReports(doc: ReproDocument, options: ReportOptions, prepared: PreparedReports, summary: () => string): Promise<void> {
  // Each view is rendered once, even when two outputs want it (--markdown and the job summary, --out and --json).
  const rendered = new Map<ReportFormat, Promise<string>>();
  let shownOnce: ReproDocument | undefined;
  const shown = () => (shownOnce ??= shownDocument(doc));
  const view = (format: ReportFormat): Promise<string> => {
    let text = rendered.get(format);
    if (!text) rendered.set(format, (text = render(format, doc, shown)));
    return text;
  };
  const failed: unknown[] = [];
  for (const format of FORMAT_NAMES) {
    const path = options[format];
    if (path === undefined) continue;
    try {
      await writeOutput(path, await view(format), REPORT_FORMATS[format].flag);
    } catch (error) {
      failed.push(error);
    }
  }
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (options.stepSummary && stepSummary) {
    try {
      await appendOutput(stepSummary, await view('markdown'), 'GITHUB_STEP_SUMMARY');
    } catch (error) {
      process.stderr.write(`repro: warning: could not append to the job summary, the run is unaffected: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  if (options.json) process.stdout.write(await view('out'));
  else (prepared.summaryToStderr ? process.stderr : process.stdout).write(`${summary()}\n`);
  const last = failed.pop();
  for (const error of failed) process.stderr.write(`repro: ${error instanceof Error ? error.message : String(error)}\n`);
  if (last !== undefined) throw last;
}
