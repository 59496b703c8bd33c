/**
 * `--html FILE`: one self-contained page: verdict, chart (the SVG view,
 * inline), the summary table, what grew by kind, the baseline comparison, the
 * environment, and what the program printed when it failed. No scripts, no
 * external resources (a Content-Security-Policy says so), readable offline.
 * Written as well-formed XML (polyglot HTML), so tests can parse it strictly.
 */
import { FD_KINDS } from '../../fdprobe/kinds.js';
import { BASELINE_WORDS, runsOf } from '../../model/baseline.js';
import type { ReproDocument, RunDocument } from '../../model/run-document.js';
import { checkLine, isInconclusive, compareRows, roundLines, compareNotes, documentTitle, headline, keptNote, requestsOf, runLabel, runRows, processLines, survivorLines, attributionLines, attributionHeadline, attributionDetails, attributionTitle } from '../facts.js';
import { causeLines, LEDGER_NOTE, ledgerTable, textTimeline, timingRows } from '../../kinds/drain/facts.js';
import { lostByWords } from '../../kinds/tree/judge.js';
import { shellCommand, visible, visibleLine } from '../text.js';
import { COLORS, oneSampleEach, renderSvg, seriesColor } from './svg.js';
import { latencyOf } from '../../kinds/ledger/latency-svg.js';
import { attrs, esc } from './xml.js';

const CSS = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: ${COLORS.text}; margin: 24px auto; max-width: 1000px; padding: 0 16px; background: #fff; }
h1 { font-size: 20px; margin: 0 0 8px; overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid ${COLORS.grid}; padding-bottom: 4px; }
.verdict { font-weight: 700; font-size: 17px; padding: 8px 12px; border-radius: 6px; display: inline-block; }
.pass { color: ${COLORS.green}; background: #e8f5e9; } .fail { color: ${COLORS.red}; background: #ffebee; } .inconclusive { color: ${COLORS.amber}; background: #fff8e1; }
ul.reasons { margin: 8px 0 0; padding-left: 20px; } ul.reasons li.failed { color: ${COLORS.red}; } ul.reasons li.untold { color: ${COLORS.amber}; }
figure { margin: 16px 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; border: 1px solid ${COLORS.grid}; border-radius: 6px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; } th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid ${COLORS.grid}; vertical-align: top; }
th { font-weight: 600; color: ${COLORS.muted}; } td.num { text-align: right; } tr.lost td { color: ${COLORS.red}; }
pre { background: #f6f8fa; padding: 8px 12px; border-radius: 6px; overflow-x: auto; font-size: 13px; max-height: 24em; }
details summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
.muted { color: ${COLORS.muted}; }
`;

/** Escaped heading text in which "ulimit -n N" (or "limit N (its own)") never breaks across lines. */
function keepTogether(escaped: string): string {
  return escaped
    .replace(/ulimit -n (\S+)/g, (_, n: string) => tag('span', `ulimit&#160;-n&#160;${n}`, { class: 'nowrap' }))
    .replace(/limit (\d+) \(its own\)/g, (_, n: string) => tag('span', `limit&#160;${n}&#160;(its&#160;own)`, { class: 'nowrap' }));
}

function tag(name: string, body: string, attributes: Record<string, string | number | undefined> = {}): string {
  return `<${name}${attrs(attributes)}>${body}</${name}>`;
}

function tableOf(header: string[], rows: string[][], headerCells = true): string {
  const head = header.length ? tag('thead', tag('tr', header.map((h) => tag('th', esc(h))).join(''))) : '';
  const body = tag('tbody', rows.map((r) => tag('tr', r.map((c, i) => (i === 0 && headerCells ? tag('th', esc(c), { scope: 'row' }) : tag('td', esc(c)))).join(''))).join(''));
  return tag('table', head + body);
}

function summaryTable(doc: ReproDocument): string {
  if (doc.kind === 'compare') {
    const notes = compareNotes(doc).map((n) => tag('p', esc(n), { class: 'muted' }));
    return tableOf(['', ...doc.runs.map((r) => r.role)], compareRows(doc.runs).map(([label, f]) => [label, ...doc.runs.map(f)])) + notes.join('');
  }
  return tableOf([], runRows(doc));
}

function kindTable(runs: RunDocument[]): string {
  const kinds = FD_KINDS.filter((k) => runs.some((r) => r.samples.some((s) => (s.fdsByKind[k] ?? 0) > 0)));
  if (kinds.length === 0) return tag('p', 'No samples.', { class: 'muted' });
  const rows = kinds.map((k) => [
    k,
    ...runs.map((r) => {
      const start = r.samples[0]?.fdsByKind[k] ?? 0;
      const end = r.samples.at(-1)?.fdsByKind[k] ?? 0;
      const growth = r.measured.growthByKind[k] ?? 0;
      return `${start} → ${end} (${growth >= 0 ? '+' : ''}${growth.toFixed(3)}/reload)`;
    }),
  ]);
  return tableOf(['kind', ...runs.map(runLabel)], rows);
}

function baselineSection(doc: ReproDocument): string {
  const b = doc.baseline;
  if (!b) return '';
  const rows = b.runs.map((r) => [r.run, BASELINE_WORDS[r.measure ?? 'growth'], String(r.before), String(r.after), `${r.change >= 0 ? '+' : ''}${r.change}`, r.mismatch ? `not compared: ${r.mismatch}` : r.regressed ? 'WORSE' : 'ok']);
  return (
    tag('h2', 'Against the baseline') +
    tag('p', `${esc(visibleLine(b.file))}, tolerance ${b.tolerance}: ${b.pass ? 'no regression' : '<strong>regression</strong>'}`) +
    tableOf(['run', 'measure', 'before', 'now', 'change', ''], rows)
  );
}

function environment(doc: ReproDocument): string {
  const runs = runsOf(doc);
  const first = runs[0] as RunDocument;
  const p = first.platform;
  const rows: string[][] = [
    ['platform', `${p.os} ${p.release} (${p.arch})`],
    ['node', p.node],
    ['fd probe', p.probe],
    ['ulimit -n', runs.map((r) => `${r.role} ${r.ulimit !== null ? r.ulimit : '— (not read)'}`).join(', ')],
    ['signal', first.signal],
    ['started', doc.startedAt],
    ['wall time', `${((doc.kind === 'compare' ? doc.wallMs : doc.end.wallMs) / 1000).toFixed(2)} s`],
    ...runs.map((r) => [`${r.role} command`, shellCommand(r.command)]),
  ];
  return tag('h2', 'Environment') + tableOf([], rows);
}

function roundSection(runs: RunDocument[]): string {
  const parts = runs.flatMap((r) => {
    const lines = roundLines(r);
    return lines.length ? [tag('h3', esc(runLabel(r))) + tag('ul', lines.map((l) => tag('li', esc(l))).join(''))] : [];
  });
  return parts.length ? tag('h2', 'What each round left') + parts.join('') : '';
}

/** --attribute: a list item per group (headline, then its frames and fds). */
function attributionSection(run: RunDocument): string {
  const [first, ...rest] = attributionLines(run, 0);
  const a = run.attribution;
  if (!a || !first) return '';
  const items = a.groups.map((g) => tag('li', esc(attributionHeadline(g)) + tag('ul', attributionDetails(g).map((d) => tag('li', esc(d))).join(''))));
  const more = a.groupsNotShown ? [tag('li', esc(`… ${a.groupsNotShown} more groups`))] : [];
  const title = attributionTitle(run);
  return tag('h2', esc(title.charAt(0).toUpperCase() + title.slice(1))) + tag('p', esc([first, ...rest].join(' ')), { class: 'muted' }) + (items.length ? tag('ul', [...items, ...more].join('')) : '');
}

/** watch: the processes measured at the last sample and the survivors by reload. */
/** watch --url: every reload window's requests, the whole ledger the terminal summary shortens to the windows that lost some. */
function reloadWindowTable(run: RunDocument): string {
  const load = run.reloadLoad;
  if (!load) return '';
  const head = tag('tr', ['window', 'took effect', 'requests', '2xx', '4xx', 'lost', 'lost by class', 'retried'].map((h) => tag('th', h)).join(''));
  const rows = load.windows.map((w) => {
    const took = w.reload === 0 ? '—' : w.tookEffectMs === undefined ? 'never seen' : `${w.tookEffectMs} ms${w.evidence ? ` (${w.evidence})` : ''}`;
    const cells = [w.reload === 0 ? 'before the first signal' : `reload ${w.reload}`, took, w.requests, w.ok, w.otherStatus, w.lost, lostByWords(w.lostBy) || '—', w.retried];
    return tag('tr', cells.map((c) => tag('td', esc(visibleLine(String(c))))).join(''), w.lost > 0 ? { class: 'lost' } : {});
  });
  const intro = `${load.total} ${load.method} requests to ${load.url}, ${load.concurrency} clients; each counted in the window it started in (after that reload's signal, before the next).`;
  return tag('h2', 'Requests per reload window') + tag('p', esc(visibleLine(intro)), { class: 'muted' }) + tag('table', head + rows.join(''));
}

function treeSection(runs: RunDocument[]): string {
  return runs
    .map((r) => {
      const processes = processLines(r);
      const survivors = survivorLines(r);
      const attribution = attributionSection(r);
      if (processes.length === 0 && survivors.length === 0 && !r.reloadLoad) return attribution;
      return [
        processes.length ? tag('h2', 'Processes measured') + tag('ul', processes.map((l) => tag('li', esc(l))).join('')) : '',
        reloadWindowTable(r),
        survivors.length ? tag('h2', 'Survivors by reload') + tag('p', esc(`fds each reload opened that were still open at the end; the first ${r.survivors?.reloadsCounted ?? 0} reloads are counted.`), { class: 'muted' }) + tag('ul', survivors.map((l) => tag('li', esc(l))).join('')) : '',
        attribution,
      ].join('\n');
    })
    .join('');
}

function outputSection(runs: RunDocument[]): string {
  const parts = runs.flatMap((r) => {
    const streams = [
      ['stderr', r.stderr],
      ['stdout', r.stdout],
    ] as const;
    return streams
      .filter(([, o]) => o.bytes > 0)
      .map(([name, o]) => {
        const note = o.truncated ? ` (${keptNote(o)})` : '';
        // Open when the run failed: then it is the evidence people came for.
        return tag('details', tag('summary', esc(`${runLabel(r)}: ${name}${note}`)) + tag('pre', esc(visible(o.text))), r.verdict.pass ? {} : { open: 'open' });
      });
  });
  return parts.length ? tag('h2', 'What the programs printed') + parts.join('\n') : '';
}

/** Drain runs: per run the ledger (losses marked), the causes, the shutdown timings and the timeline as text. */
function drainSection(runs: RunDocument[]): string {
  const drains = runs.flatMap((r) => {
    const requests = requestsOf(r);
    return requests ? [{ role: r.role, drain: requests }] : [];
  });
  if (drains.length === 0) return '';
  const parts = drains.map((r) => {
    const { header, rows } = ledgerTable(r.drain.ledger);
    const causes = causeLines(r.drain.ledger, 10);
    return (
      tag('h3', esc(`${r.role}: requests by outcome × phase`)) +
      tableOf(header, rows) +
      (causes.length ? tag('p', 'Losses by cause:') + tag('ul', causes.map((c) => tag('li', esc(visibleLine(c)))).join('')) : tag('p', 'No request lost.')) +
      tag('p', 'Shutdown, from the signal:') +
      tableOf([], timingRows(r.drain.ledger)) +
      tag('pre', esc(textTimeline(r.drain.timeline, 80).join('\n')))
    );
  });
  return tag('h2', 'Requests: the ledger') + tag('p', esc(LEDGER_NOTE), { class: 'muted' }) + parts.join('\n');
}

export function renderHtml(doc: ReproDocument): string {
  const runs = runsOf(doc);
  const allDrain = runs.every((r) => requestsOf(r) !== undefined);
  // A sample each (ledgers, trials): the SVG shows each run's rows or its requests' latency, and nothing grew over reloads.
  const oneSample = !allDrain && oneSampleEach(runs);
  const caption = runs.every((r) => latencyOf(r) !== undefined)
    ? "Each request's latency over time, the signals and the bound."
    : 'What each run showed: the rows of its summary.';
  const { status, text } = headline(doc);
  const title = documentTitle(doc);
  const untold = isInconclusive(doc);
  const reasons = doc.verdict.checks.map((c) => tag('li', esc(visibleLine(checkLine(c, untold))), c.ok ? {} : { class: untold ? 'untold' : 'failed' })).join('');
  const legend = runs.map((r) => tag('span', esc(`■ ${runLabel(r)}`), { style: `color: ${seriesColor(r)}; margin-right: 16px;` })).join('');
  return [
    '<!DOCTYPE html>',
    '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/>`,
    tag('title', esc(title)),
    tag('style', CSS),
    '</head>',
    '<body>',
    tag('h1', keepTogether(esc(title))),
    tag('div', esc(`${status.toUpperCase()}: ${text}`), { class: `verdict ${status}` }),
    tag('ul', reasons, { class: 'reasons' }),
    allDrain
      ? tag('figure', renderSvg(doc, { header: false }).trim() + tag('figcaption', tag('span', 'Requests over time, from the signal (0): answers above the axis by outcome, losses below; the shutdown\'s moments marked.', { class: 'muted' })))
      : oneSample
        ? tag('figure', renderSvg(doc, { header: false }).trim() + tag('figcaption', tag('span', caption, { class: 'muted' })))
        : tag('figure', renderSvg(doc, { header: false }).trim() + tag('figcaption', legend + tag('span', `Open fds after each reload; dashed: the fd limit; ✕: EMFILE.${runs.some((r) => r.reloadLoad) ? ' Under them, the requests that started in each reload window: answered above the axis, lost below by class (its own scale); ▼ the signal, hollow when the reload was never seen to take effect.' : ''}`, { class: 'muted' }))),
    tag('h2', 'Summary'),
    summaryTable(doc),
    drainSection(runs),
    allDrain || oneSample ? '' : tag('h2', 'What grew, by kind'),
    allDrain || oneSample ? '' : tag('p', 'fds of each kind at the baseline → at the last sample, and the fitted growth per reload.', { class: 'muted' }),
    allDrain || oneSample ? '' : kindTable(runs),
    baselineSection(doc),
    treeSection(runs),
    environment(doc),
    roundSection(runs),
    outputSection(runs),
    tag('p', esc(`Written by repro from a run document (schemaVersion ${doc.schemaVersion}).`), { class: 'muted' }),
    '</body>',
    '</html>',
    '',
  ]
    .filter(Boolean)
    .join('\n');
}
