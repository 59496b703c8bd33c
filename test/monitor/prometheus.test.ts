/**
 * A real Prometheus (Debian's 2.42) scrapes a real `repro monitor` every
 * second and evaluates `repro rules`: a service that leaks a pipe per reload
 * is reloaded, and its alert goes pending (then firing); the correct service,
 * reloaded the same way, raises none.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../../src/util/find-executable.js';
import { RULES_DEFAULTS, rulesYaml } from '../../src/monitor/rules.js';
import { freePort } from '../support/net.js';
import { eventually, startMonitor, startService, stop, type Started } from './support.js';

const prometheus = findOnPath('prometheus');
if (!prometheus) console.log('prometheus.test.ts skipped: no prometheus on PATH (apt-get install prometheus)');

interface Alert {
  labels: Record<string, string>;
  state: string;
}

async function alerts(port: number): Promise<Alert[] | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts`);
    return ((await res.json()) as { data: { alerts: Alert[] } }).data.alerts;
  } catch {
    return undefined; // not listening yet
  }
}

describe.skipIf(!prometheus)('Prometheus scraping repro monitor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'repro-prom-'));
  const started: Started[] = [];
  afterAll(async () => {
    for (const s of started.reverse()) await stop(s);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees the fds-survive-reloads alert go pending for the leaking service and raises nothing for the correct one', async () => {
    const tag = `repro-prom-${process.pid}-${Date.now()}`;
    const [leakLog, correctLog] = [join(dir, 'leak.log'), join(dir, 'correct.log')];
    const [leak, correct] = await Promise.all([startService('leak', `${tag}-leak`, leakLog), startService('correct', `${tag}-correct`, correctLog)]);
    started.push(leak, correct);
    const [leakPort, correctPort, webPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(join(dir, 'rules.yml'), rulesYaml({ ...RULES_DEFAULTS, windowMs: 5000, forMs: 1000, minSurvivors: 2, hours: 1 }));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files: [rules.yml]', 'scrape_configs:', '  - job_name: repro', '    static_configs:', `      - targets: ['127.0.0.1:${leakPort}', '127.0.0.1:${correctPort}']`, ''].join('\n'),
    );
    // Both start at once: each takes a second or two here, and Prometheus retries a target that is not up yet.
    const server = spawn(prometheus as string, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    started.push({ child: server, pid: server.pid as number, stderr: () => '', exited: new Promise((r) => server.once('exit', (c, s) => r((c ?? s) as number))) });
    // One exporter per service and its log, as in production: a log's reloads are its service's.
    const flags = ['--interval', '250ms', '--age', '2s', '--reload-pattern', 'signal 1 \\(SIGHUP\\) received'];
    const monitors = await Promise.all([
      startMonitor(['--match', `${tag}-leak`, '--listen', `127.0.0.1:${leakPort}`, '--log', leakLog, ...flags]),
      startMonitor(['--match', `${tag}-correct`, '--listen', `127.0.0.1:${correctPort}`, '--log', correctLog, ...flags]),
    ]);
    started.push(...monitors);
    await eventually('Prometheus answering', () => alerts(webPort), 15_000);

    // Each service logs its reload line, as nginx does, then reloads.
    const reloadTimer = setInterval(() => {
      leak.child.kill('SIGHUP');
      correct.child.kill('SIGHUP');
    }, 300);
    try {
      const fired = await eventually(
        'the leaking service’s alert',
        async () => (await alerts(webPort))?.find((a) => a.labels.alertname === 'ReproFdsSurviveReloads' && a.labels.pid === String(leak.pid) && ['pending', 'firing'].includes(a.state)),
        15_000,
      );
      expect(fired.labels.command).toBe('python3');
      // Both services took the same reloads over the same scrapes: none of the rules holds for the correct one.
      const all = (await alerts(webPort)) ?? [];
      expect(all.filter((a) => a.labels.pid === String(correct.pid))).toEqual([]);
    } finally {
      clearInterval(reloadTimer);
    }
    const query = async (q: string) =>
      ((await (await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { value: [number, string] }[] } }).data.result.map((r) => Number(r.value[1]));
    expect(await query('up')).toEqual([1, 1]);
    // The correct service was scraped through the same reloads: its silence is a measured 0, not a missing series.
    expect((await query('min(repro_reloads_total)'))[0]).toBeGreaterThanOrEqual(3);
    expect(await query(`max_over_time(repro_process_reload_survivor_fds{pid="${correct.pid}"}[1m])`)).toEqual([0]);
    expect((await query(`repro_process_reload_survivor_fds{pid="${leak.pid}"}`))[0]).toBeGreaterThanOrEqual(2);
    expect(leak.child.exitCode).toBeNull();
    expect(correct.child.exitCode).toBeNull();
  }, 25_000);
});
