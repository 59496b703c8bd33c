/**
 * `--junit FILE`: one test case per run (and per baseline comparison), in the
 * JUnit XML that CI test-report tabs read. A failed verdict is a <failure>
 * whose message names the growth per reload and where EMFILE came; a watch
 * run that could not be judged is an <error>.
 */
import { BASELINE_WORDS, runsOf } from '../../model/baseline.js';
import type { ReproDocument, RunDocument } from '../../model/run-document.js';
import { expectation, overLimitSentence, growthSentence, runLabel, checkLine, processLines, survivorLines, treeRows, attributionLines, attributionHeadline } from '../facts.js';
import { viewOf } from '../../kinds/index.js';
import { visible, visibleLine } from '../text.js';
import { attrs, esc } from './xml.js';

interface Case {
  name: string;
  classname: string;
  seconds: number;
  failure?: { message: string; body: string; type?: string };
  error?: { message: string; body: string };
  stdout?: string;
  stderr?: string;
  /** Facts a reader needs next to the numbers (a final count above the limit, and why). */
  properties?: [string, string][];
}

function caseOf(run: RunDocument): Case {
  const v = run.verdict;
  const base: Case = {
    name: `${runLabel(run)}: ${expectation(run)}`,
    classname: viewOf(run).junitClass(run),
    seconds: run.end.wallMs / 1000,
    stdout: visible(run.stdout.text) || undefined,
    stderr: visible(run.stderr.text) || undefined,
  };
  const over = overLimitSentence(run);
  if (over) base.properties = [['final fds', over]];
  const tree = treeRows(run);
  if (tree.length) base.properties = [...(base.properties ?? []), ...tree];
  const measured = processLines(run).map((l) => `process: ${l}`);
  const survivors = survivorLines(run, 40).map((l) => `survivors: ${l}`);
  const attributed = attributionLines(run, 16).map((l) => `attribution: ${l}`);
  const body = [...v.checks.map((c) => checkLine(c, v.inconclusive === true)), `ended: ${run.end.detail}`, ...(over ? [over] : []), ...measured, ...survivors, ...attributed].map(visibleLine).join('\n');
  if (v.inconclusive) return { ...base, error: { message: `inconclusive: ${visibleLine(run.end.detail)}`, body } };
  const own = v.pass ? undefined : viewOf(run).junitFailure(run);
  if (own) return { ...base, failure: { ...own, body } };
  const ended = v.checks.find((c) => c.id === 'ended' && !c.ok);
  const leakSeen = run.measured.emfileAtReload !== null || v.checks.some((c) => c.id === 'growth' && !c.ok && run.samples.length > 1);
  // A run cut short before it showed a leak failed for that reason (an abort, a child that died), not for its growth.
  if (!v.pass && ended && !leakSeen) return { ...base, failure: { message: visibleLine(ended.text), body, type: run.end.reason === 'aborted' ? 'aborted' : 'ended-early' } };
  const survived = v.checks.find((c) => c.id === 'survivors' && !c.ok);
  const where = run.attribution?.groups[0];
  const from = survived && where ? `; ${visibleLine(attributionHeadline(where))}` : '';
  if (!v.pass) return { ...base, failure: { message: survived ? `${visibleLine(survived.text)}${from}; ${growthSentence(run)}` : growthSentence(run), body } };
  return base;
}

function baselineCases(doc: ReproDocument): Case[] {
  const b = doc.baseline;
  if (!b) return [];
  return b.runs.map((r) => {
    const what = BASELINE_WORDS[r.measure ?? 'growth'];
    const unit = r.measure === 'lost' ? 'requests' : 'fd/reload';
    const message = r.mismatch
      ? `cannot compare with the baseline: ${visibleLine(r.mismatch)}`
      : `${what} ${r.before} → ${r.after} (${r.change >= 0 ? '+' : ''}${r.change} ${unit}, tolerance ${b.tolerance}) against ${visibleLine(b.file)}`;
    return {
      name: `${r.run}: ${what} no worse than the baseline`,
      classname: 'repro.baseline',
      seconds: 0,
      ...(r.regressed ? { failure: { message, body: message } } : {}),
    };
  });
}

function testcase(c: Case): string {
  const inner = [
    c.properties ? `      <properties>${c.properties.map(([name, value]) => `<property${attrs({ name, value })}/>`).join('')}</properties>` : '',
    c.failure ? `      <failure${attrs({ message: c.failure.message, type: c.failure.type ?? 'fd-growth' })}>${esc(c.failure.body)}</failure>` : '',
    c.error ? `      <error${attrs({ message: c.error.message, type: 'inconclusive' })}>${esc(c.error.body)}</error>` : '',
    c.stdout ? `      <system-out>${esc(c.stdout)}</system-out>` : '',
    c.stderr ? `      <system-err>${esc(c.stderr)}</system-err>` : '',
  ].filter(Boolean);
  const open = `    <testcase${attrs({ name: c.name, classname: c.classname, time: c.seconds.toFixed(3) })}`;
  return inner.length ? `${open}>\n${inner.join('\n')}\n    </testcase>` : `${open}/>`;
}

export function renderJunit(doc: ReproDocument): string {
  const runs = runsOf(doc);
  const cases = [...runs.map(caseOf), ...baselineCases(doc)];
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const seconds = doc.kind === 'compare' ? doc.wallMs / 1000 : doc.end.wallMs / 1000;
  const name = doc.kind === 'compare' ? `repro compare ${doc.scenario}` : viewOf(doc).suiteName(doc);
  const first = runs[0] as RunDocument;
  const counts = { tests: cases.length, failures, errors, skipped: 0, time: seconds.toFixed(3) };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'repro', ...counts })}>`,
    `  <testsuite${attrs({ name, ...counts, timestamp: doc.startedAt.replace(/Z$/, ''), hostname: 'localhost' })}>`,
    '    <properties>',
    ...[
      ['os', `${first.platform.os} ${first.platform.release} ${first.platform.arch}`],
      ['node', first.platform.node],
      ['probe', first.platform.probe],
      ['ulimit', first.ulimit !== null ? String(first.ulimit) : '— (not read)'],
      ['signal', first.signal],
    ].map(([k, v]) => `      <property${attrs({ name: k, value: v })}/>`),
    '    </properties>',
    ...cases.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
