/**
 * Issue 12 wired through the real CLI: `repro compare --scenario graceful-drain`
 * runs the four Node servers under real load (exit 0), the document carries
 * each ledger and is judged again from the saved file alone; `repro drain`
 * gates servers nobody wrote for repro: Python's http.server (exits at once on
 * TERM: losses, exit 1) and nginx from Debian (QUIT drains: 0 lost, exit 0;
 * TERM cuts in-flight responses: exit 1). No server is left behind.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { processesWith } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-drain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const svgParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['g', 'path', 'text', 'line', 'rect'].includes(name) });

/** Elements an inert picture may have: shapes and text, nothing that runs, links or embeds. */
const SVG_ELEMENTS = new Set(['svg', 'title', 'desc', 'g', 'rect', 'line', 'path', 'polyline', 'circle', 'text']);

/** Well-formed XML that runs nothing and loads nothing: only shapes and text, no event handler, no link, no external reference. */
function expectInertSvg(text: string): void {
  expect(XMLValidator.validate(text)).toBe(true);
  expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  const walk = (name: string, node: unknown): void => {
    expect(SVG_ELEMENTS.has(name), `element <${name}>`).toBe(true);
    for (const item of Array.isArray(node) ? node : [node]) {
      if (typeof item !== 'object' || item === null) continue;
      for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
        if (key === '#text') continue;
        if (key.startsWith('@')) {
          expect(key, `attribute ${key} of <${name}>`).not.toMatch(/^@(on|href|xlink:href|style$)/i);
          expect(String(value)).not.toMatch(/url\(|javascript:/i);
        } else walk(key, value);
      }
    }
  };
  walk('svg', svgParser.parse(text).svg);
}

interface SvgPanel {
  run: string;
  /** data-requests of each band by its data-outcome. */
  bands: Record<string, number>;
  /** data-ms of each mark by its data-mark. */
  marks: Record<string, number>;
}

/** The drain timeline's panels as data, read back from the SVG. */
function svgPanels(text: string): SvgPanel[] {
  type G = { '@class'?: string; '@data-run'?: string; '@data-mark'?: string; '@data-ms'?: string; path?: { '@data-outcome'?: string; '@data-requests'?: string }[]; g?: G[] };
  const svg = svgParser.parse(text).svg as { g: G[] };
  return svg.g
    .filter((g) => g['@class'] === 'drain-run')
    .map((g) => ({
      run: g['@data-run'] as string,
      bands: Object.fromEntries((g.path ?? []).map((p) => [p['@data-outcome'], Number(p['@data-requests'])])),
      marks: Object.fromEntries((g.g ?? []).filter((m) => m['@class'] === 'mark').map((m) => [m['@data-mark'], Number(m['@data-ms'])])),
    }));
}

describe('repro compare --scenario graceful-drain (the real CLI, real servers, real load)', () => {
  const out = join(dir, 'compare.json');
  it('exits 0: every broken server loses requests, each with its cause; correct loses none and exits 0', async () => {
    const result = await repro(['compare', '--scenario', 'graceful-drain', '--out', out, '--junit', join(dir, 'compare.xml'), '--markdown', join(dir, 'compare.md'), '--html', join(dir, 'compare.html'), '--svg', join(dir, 'compare.svg')], { timeout: 90_000 });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CompareDocument;
    expect(doc.runs.map((r) => [r.role, r.roleKind])).toEqual([
      ['exit-at-once', 'broken'],
      ['keeps-accepting', 'broken'],
      ['drains-forever', 'broken'],
      ['correct', 'correct'],
    ]);
    const byRole = Object.fromEntries(doc.runs.map((r) => [r.role, r])) as Record<string, RunDocument & { drain: NonNullable<RunDocument['drain']> }>;
    for (const run of doc.runs) {
      expect(run.drain?.ended.reason).toBe('done');
      expect(run.end.reason).toBe('shutdown-done');
      expect(run.samples).toHaveLength(1); // the baseline sample: measured stays meaningful
      expect(run.measured.baselineFds).toBeGreaterThan(3);
      expect(run.drain?.ledger.total).toBeGreaterThanOrEqual(300);
      expect(run.drain?.timeline.buckets.length).toBeLessThanOrEqual(240);
      // Every loss is in a cause group.
      expect(run.drain?.ledger.causes.reduce((n, c) => n + c.count, 0)).toBe(run.drain?.ledger.lost);
    }
    expect(byRole.correct?.drain.ledger.lost).toBe(0);
    expect(byRole.correct?.drain.ledger.exit).toEqual({ code: 0, signal: null, killed: false });
    expect(byRole.correct?.drain.events.map((e) => e.event)).toEqual(['draining', 'listener-closed', 'idle-closed', 'drained', 'cleanup', 'cleanup', 'cleanup']);
    for (const broken of ['exit-at-once', 'keeps-accepting', 'drains-forever']) expect(byRole[broken]?.drain.ledger.lost).toBeGreaterThan(0);
    expect(byRole['drains-forever']?.drain.ledger.exit?.killed).toBe(true);
    expect(byRole['exit-at-once']?.drain.ledger.counts.refused.lag).toBeGreaterThan(0);

    // The terminal summary: the ledger table with losses marked, causes, timings, the timeline.
    expect(result.stdout).toMatch(/PASS: exit-at-once loses \d+ of \d+, keeps-accepting loses \d+ of \d+, drains-forever loses \d+ of \d+, correct loses none of \d+/);
    expect(result.stdout).toMatch(/refused\s+·\s+\d+✗/);
    expect(result.stdout).toMatch(/signal → SIGKILL\s+\d+(\.\d)? ms \(killed after the grace period with \d+ connections? open\)/);
    expect(result.stdout).toMatch(/answered │.+│\n\s+lost\s+│/);
    // JUnit: one case per role, none failing.
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(dir, 'compare.xml'), 'utf8')) as { testsuites: { testsuite: { testcase: { '@_name': string }[] } } };
    expect(xml.testsuites.testsuite.testcase.map((c) => c['@_name'].split(' ')[0])).toEqual(['exit-at-once', 'keeps-accepting', 'drains-forever', 'correct']);
    expect(readFileSync(join(dir, 'compare.md'), 'utf8')).toMatch(/\*\*correct: requests by outcome × phase\*\*/);
    expect(readFileSync(join(dir, 'compare.html'), 'utf8')).toContain('Requests: the ledger');
  }, 100_000);

  it('--svg draws the requests over time per run: every request in a band by outcome, losses apart, the shutdown marked; inert, valid XML', async () => {
    const text = readFileSync(join(dir, 'compare.svg'), 'utf8');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CompareDocument;
    expectInertSvg(text);
    const panels = svgPanels(text);
    expect(panels.map((p) => p.run)).toEqual(['exit-at-once', 'keeps-accepting', 'drains-forever', 'correct']);
    for (const [i, panel] of panels.entries()) {
      const ledger = (doc.runs[i] as RunDocument & { drain: NonNullable<RunDocument['drain']> }).drain.ledger;
      const sum = (ids: string[]) => ids.reduce((n, id) => n + (panel.bands[id] ?? 0), 0);
      // Every request of the ledger is drawn once: answers above the axis, losses below.
      expect(sum(Object.keys(panel.bands))).toBe(ledger.total);
      expect(sum(['unavailable', 'reset', 'truncated', 'timeout', 'refused-lost'])).toBe(ledger.lost);
      expect(panel.bands['refused-lost'] ?? 0).toBe(ledger.counts.refused.before + ledger.counts.refused.lag);
      expect(panel.bands.ok ?? 0).toBe(Object.values(ledger.counts.ok).reduce((a, b) => a + b, 0));
      // Failures the ledger did not count as lost (after the exit, or a GET retried) are drawn apart, above the axis.
      const failures = (['reset', 'truncated', 'timeout', 'unavailable'] as const).reduce((n, o) => n + Object.values(ledger.counts[o] ?? {}).reduce((a, b) => a + b, 0), 0);
      expect(sum(['reset', 'truncated', 'timeout', 'unavailable', 'failed-counted'])).toBe(failures);
      // The signal is 0 on every panel; the listener close and the exit (or SIGKILL) where the ledger timed them.
      expect(panel.marks.signalMs).toBe(0);
      expect(panel.marks.listenerClosedMs).toBeCloseTo(ledger.timings.listenerClosedMs as number, 0);
      if (ledger.exit?.killed) expect(panel.marks.killMs).toBeCloseTo(ledger.timings.killMs as number, 0);
      else expect(panel.marks.exitMs).toBeCloseTo(ledger.timings.exitMs as number, 0);
    }
    expect(panels[3]?.bands['refused-lost'] ?? 0).toBe(0);
    expect(panels[2]?.bands['refused-lost']).toBeGreaterThan(0);
    expect(text).toMatch(/drains-forever \(node\) · lost \d+ of \d+ · killed after the grace period with \d+ connections? open</);
    // A view of the saved document: `repro report` draws the same picture.
    const again = await repro(['report', out, '--svg', join(dir, 'again.svg')]);
    expect(again.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'again.svg'), 'utf8')).toBe(text);
    // The HTML report shows the same picture (without its own title lines): the same panels, bands and marks.
    const html = readFileSync(join(dir, 'compare.html'), 'utf8');
    const inHtml = /<svg [\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expectInertSvg(inHtml);
    expect(svgPanels(inHtml)).toEqual(panels);
    // Text from the document stays text: a role name with markup is escaped, the picture stays inert.
    const hostile = structuredClone(doc);
    (hostile.runs[0] as RunDocument).role = '<script>alert(1)</script><a href="x" onload="y">';
    writeFileSync(join(dir, 'hostile.json'), JSON.stringify(hostile));
    const drawn = await repro(['report', join(dir, 'hostile.json'), '--svg', join(dir, 'hostile.svg')]);
    expect(drawn.stderr).toBe('');
    const hostileSvg = readFileSync(join(dir, 'hostile.svg'), 'utf8');
    expectInertSvg(hostileSvg);
    expect(hostileSvg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('the verdict is a function of the saved document: a loss written into the correct ledger fails `repro report` (exit 1, JUnit names it)', async () => {
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CompareDocument;
    const correct = doc.runs.find((r) => r.role === 'correct') as RunDocument & { drain: NonNullable<RunDocument['drain']> };
    correct.drain.ledger.lost = 2;
    correct.drain.ledger.counts.reset.lag = 2;
    correct.drain.ledger.causes = [{ outcome: 'reset', phase: 'lag', cause: 'ECONNRESET before any response byte', server: 'running', count: 2 }];
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify(doc));
    // --max-growth re-judges every run from the document (the drain checks read only the ledger).
    const result = await repro(['report', edited, '--max-growth', '0.01', '--junit', join(dir, 'edited.xml')]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('FAIL: correct: expected not one request lost, exit 0, but lost 2 of');
    expect(readFileSync(join(dir, 'edited.xml'), 'utf8')).toMatch(/<failure message="lost 2 of \d+ requests: 2 × reset \(started in the lag window, server still running\): ECONNRESET before any response byte[^"]*" type="request-loss">/);
  });
});

describe('repro drain gates servers nobody wrote for repro', () => {
  it("Python's http.server exits at once on SIGTERM: requests lost, each with its cause; exit 1", async () => {
    const port = await freePort();
    // A lag long enough that some client is free to send in it: http.server's backlog is 5, so under load most
    // clients wait on a SYN the full queue dropped (retried after 1 s); at the death those retries are refused
    // in phase "before"; with a 200 ms lag, in a full run of the suite, no client was free to send in the lag.
    const result = await repro(['drain', '--url', `http://127.0.0.1:${port}/`, '--lag', '1500', '--json', '--svg', join(dir, 'python.svg'), '--', 'python3', '-m', 'http.server', String(port), '--bind', '127.0.0.1'], { cwd: dir });
    expect(result.exitCode).toBe(1);
    const run = JSON.parse(result.stdout) as RunDocument;
    // The SVG of a drain run is its requests timeline: one panel, the losses drawn, the death by SIGTERM marked.
    const svg = readFileSync(join(dir, 'python.svg'), 'utf8');
    expectInertSvg(svg);
    const [panel] = svgPanels(svg);
    expect(Object.values(panel?.bands ?? {}).reduce((a, b) => a + b, 0)).toBe(run.drain?.ledger.total);
    expect(panel?.bands['refused-lost']).toBe((run.drain?.ledger.counts.refused.before ?? 0) + (run.drain?.ledger.counts.refused.lag ?? 0));
    expect(panel?.marks.exitMs).toBeCloseTo(run.drain?.ledger.timings.exitMs as number, 0);
    expect(svg).toContain('died of SIGTERM');
    expect(run.scenario).toBe('drain');
    expect(run.drain?.ledger.exit).toEqual({ code: null, signal: 'SIGTERM', killed: false });
    expect(run.drain?.ledger.lost).toBeGreaterThan(0);
    // Refused during the routing lag: nothing listens any more while the load balancer still sends.
    expect(run.drain?.ledger.causes).toContainEqual(expect.objectContaining({ outcome: 'refused', phase: 'lag', cause: 'ECONNREFUSED: nothing listening' }));
    expect(run.verdict.checks[0]).toMatchObject({ id: 'drain:losses', ok: false });
    expect(processesWith(`http.server ${port}`)).toEqual([]);
  });

  describe('nginx from Debian (temp prefix, 127.0.0.1, keep-alive off, responses paced to ~100 ms)', () => {
    async function nginx(signal: string) {
      const prefix = mkdtempSync(join(dir, 'nginx-'));
      mkdirSync(join(prefix, 'html'));
      mkdirSync(join(prefix, 'logs'));
      // 101 000 bytes at 1 MB/s: each response is in flight for ~100 ms, so the signal always finds some.
      writeFileSync(join(prefix, 'html', 'index.html'), `${'x'.repeat(99)}\n`.repeat(1010));
      const port = await freePort();
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(prefix, t)};`).join(' ');
      writeFileSync(
        join(prefix, 'nginx.conf'),
        `daemon off; user root; worker_processes 1; pid ${join(prefix, 'nginx.pid')}; error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 256; }
http { access_log off; keepalive_timeout 0; limit_rate 1m; ${temp}
  server { listen 127.0.0.1:${port}; root ${join(prefix, 'html')}; } }
`,
      );
      const result = await repro(['drain', '--url', `http://127.0.0.1:${port}/`, '--signal', signal, '--json', '--', 'nginx', '-p', prefix, '-c', join(prefix, 'nginx.conf')]);
      // Master and worker are both gone (workers run as root: the temp prefix is mode 0700).
      expect(processesWith(prefix)).toEqual([]);
      return { result, run: JSON.parse(result.stdout) as RunDocument & { drain: NonNullable<RunDocument['drain']> } };
    }

    it('--signal QUIT (graceful shutdown): every request in flight is answered, 0 lost, exit 0', async () => {
      const { result, run } = await nginx('QUIT');
      expect(run.drain.ledger.lost).toBe(0);
      expect(run.drain.ledger.inFlightAtSignal).toBeGreaterThan(0);
      expect(run.drain.ledger.exit).toEqual({ code: 0, signal: null, killed: false });
      expect(run.signal).toBe('SIGQUIT');
      expect(result.exitCode).toBe(0);
    });

    it('--signal TERM (fast shutdown): responses in flight are cut (truncated), exit 1', async () => {
      const { result, run } = await nginx('TERM');
      expect(run.drain.ledger.lost).toBeGreaterThan(0);
      expect(run.drain.ledger.counts.truncated.before).toBeGreaterThan(0);
      expect(result.exitCode).toBe(1);
    });
  });

  it.each([
    [['--url', 'http://10.1.2.3:8080/'], /--url http:\/\/10\.1\.2\.3:8080\/: the load goes to loopback only \(127\.0\.0\.1 or \[::1\]\), not 10\.1\.2\.3/],
    [['--url', 'http://localhost:8080/'], /loopback only .* not localhost; run the server on 127\.0\.0\.1/],
    [['--url', 'https://127.0.0.1:8443/'], /only plain http is loaded/],
    [[], /^repro: drain needs --url/m],
    [['--url', 'http://127.0.0.1:8080/', '--signal', 'KILL'], /--signal KILL: SIGKILL cannot be caught, so no program can shut down gracefully on it; use a shutdown signal the program handles, such as TERM, INT or QUIT/],
  ])('refuses %j before starting anything: one line, exit 2', async (args, message) => {
    const result = await repro(['drain', ...args, '--', 'python3', '-m', 'http.server']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a server that never answers: inconclusive (exit 4), the URL as given, the signal said not sent, no ok-check about requests never sent', async () => {
    const port = await freePort();
    // A sleep of its own (other tests run `sleep 30` at the same time): what is left is checked by this command line.
    const result = await repro(['drain', '--url', `http://[::1]:${port}/`, '--ready-timeout', '500', '--', 'sleep', `29.${port}`]);
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toContain(`http://[::1]:${port}/ did not answer 200 within 500 ms`);
    expect(result.stdout).toMatch(/plan\s+SIGTERM not sent: the run stopped before it/);
    expect(result.stdout).not.toMatch(/^\s*timings\b/m);
    expect(result.stdout).not.toMatch(/0 of 0/);
    expect(result.stdout).toMatch(/requests\s+none sent/);
    // No empty ledger table, its legend or a shutdown that never began: the rows above said it.
    expect(result.stdout).not.toContain('requests by outcome');
    expect(result.stdout).not.toContain('✗: lost');
    expect(processesWith(`sleep 29.${port}`)).toEqual([]);
  });

  it('--help says which --url it takes: http on 127.0.0.0/8 or [::1]', async () => {
    const result = await repro(['drain', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.replace(/\s+/g, ' ')).toContain('http:// on a loopback address only: 127.0.0.0/8 or [::1]');
  });

  it.each([
    [['--ulimit', '256'], '--ulimit'],
    [['--reloads', '5'], '--reloads'],
  ])('%j with --scenario graceful-drain is refused, not ignored: one line, exit 2', async (args, flag) => {
    const result = await repro(['compare', '--scenario', 'graceful-drain', ...args]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(`repro: ${flag} does not apply to graceful-drain: a load-and-signal run has no reloads and the server runs under its own limit; leave it out`);
  });

  it('--lag belongs to load-and-signal scenarios: refused for sighup-listener (exit 2)', async () => {
    const result = await repro(['compare', '--lag', '100']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--lag applies to load-and-signal scenarios \(graceful-drain\), not sighup-listener; leave it out/);
  });
});
