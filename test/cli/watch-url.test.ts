/**
 * repro watch --url: reloads under load, end to end with real servers. The
 * Python server of reload-under-load reloads three ways (close and listen
 * again, re-exec without handing the listener over, keep the listener); nginx
 * where installed. Each run: 3 reloads, 4 clients.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro, reproJson } from '../support/cli.js';
import { freePort } from '../support/net.js';

const SERVER = fileURLToPath(new URL('../../src/scenarios/reload-under-load/python/server.py', import.meta.url));
const hasNginx = spawnSync('nginx', ['-v']).error === undefined;

async function watchUrl(mode: string, extra: string[] = [], serverArgs: string[] = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  return reproJson<RunDocument>(['watch', '--reloads', '3', '--concurrency', '4', '--url', url, ...extra, '--', 'python3', SERVER, '--mode', mode, '--port', String(port), ...serverArgs], { timeout: 60_000 });
}

describe('repro watch --url', () => {
  it('passes a server that keeps its listening socket: every request answered, every reload acknowledged, and the load leaves no survivor', async () => {
    const r = await watchUrl('keep');
    expect(r.exitCode, r.stderr).toBe(0);
    const load = r.run?.reloadLoad;
    expect(load?.lost).toBe(0);
    expect(load?.signalsSent).toBe(3);
    expect(load?.tookEffect).toBe(3);
    expect(load?.windows.map((w) => w.reload)).toEqual([0, 1, 2, 3]);
    for (const w of load?.windows.slice(1) ?? []) {
      expect(w.ok).toBeGreaterThan(0);
      expect(w.evidence).toBe('acknowledged by the program');
    }
    // The load's kept-alive connections were open from reload 1 on: stopped before the final sample, the server's side of them is no survivor.
    expect(r.run?.survivors?.survivorsCounted).toBe(0);
    expect(r.run?.tree?.completion).toBe('took-effect-under-load');
    expect(load?.stoppedMs).toBeGreaterThan(0);
  }, 60_000);

  it('fails a server that closes its listener and listens again, naming the reloads and the refusals; the new socket alone shows the reload (no acknowledgement)', async () => {
    const r = await watchUrl('close-relisten', [], ['--no-ack', '--gap-ms', '100']);
    expect(r.exitCode, r.stdout).toBe(1);
    const load = r.run?.reloadLoad;
    expect(load?.lost).toBeGreaterThan(0);
    expect(load?.tookEffect).toBe(3);
    expect(load?.windows[1]?.evidence).toMatch(/listener re-created/);
    const losing = load?.windows.filter((w) => w.lost > 0) ?? [];
    expect(losing.every((w) => w.reload > 0 && (w.lostBy.refused ?? 0) > 0)).toBe(true);
    const check = r.run?.verdict.checks.find((c) => c.id === 'reloads:lost');
    expect(check?.ok).toBe(false);
    expect(check?.text).toMatch(new RegExp(`reload ${losing[0]?.reload}: \\d+ refused`));
  }, 60_000);

  it('fails a server that re-execs itself without handing the listener over: the re-exec at the same pid shows the reload, and requests are refused', async () => {
    const r = await watchUrl('reexec', [], ['--no-ack']);
    expect(r.exitCode, r.stdout).toBe(1);
    const load = r.run?.reloadLoad;
    expect(load?.tookEffect).toBe(3);
    expect(load?.windows[1]?.evidence).toMatch(/re-exec of pid/);
    expect(load?.windows.slice(1).reduce((n, w) => n + (w.lostBy.refused ?? 0), 0)).toBeGreaterThan(0);
  }, 60_000);

  it('--max-lost lets a lossy reload pass when the losses are within it', async () => {
    const r = await watchUrl('close-relisten', ['--max-lost', '1000000'], ['--no-ack']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.run?.reloadLoad?.lost).toBeGreaterThan(0);
  }, 60_000);

  it('cannot tell (exit 4) when nothing in the process world shows a reload took effect, and never passes', async () => {
    const r = await watchUrl('keep', ['--settle-timeout', '800'], ['--no-ack']);
    expect(r.exitCode, r.stdout).toBe(4);
    expect(r.run?.end.reason).toBe('reload-unfinished');
    expect(r.run?.end.detail).toMatch(/reload 1: nothing showed it took effect within 800 ms/);
  }, 60_000);

  it.skipIf(!hasNginx)('passes nginx HUP: each reload shown by a new worker generation, GETs answered (a keep-alive closed by the reload is retried once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repro-url-nginx-'));
    try {
      // nginx's workers run as nobody under root: they must be able to read the page.
      chmodSync(dir, 0o755);
      const port = await freePort();
      mkdirSync(join(dir, 'html'));
      writeFileSync(join(dir, 'html', 'index.html'), 'hello\n');
      writeFileSync(
        join(dir, 'nginx.conf'),
        `daemon off; worker_processes 2; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 256; }
http { access_log off; client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server { listen 127.0.0.1:${port}; root ${dir}/html; } }
`,
      );
      const r = await reproJson<RunDocument>(['watch', '--reloads', '3', '--concurrency', '4', '--url', `http://127.0.0.1:${port}/`, '--', 'nginx', '-c', join(dir, 'nginx.conf'), '-p', dir], { timeout: 60_000 });
      expect(r.exitCode, r.stdout).toBe(0);
      expect(r.run?.reloadLoad?.lost).toBe(0);
      expect(r.run?.reloadLoad?.tookEffect).toBe(3);
      expect(r.run?.reloadLoad?.windows[1]?.evidence).toMatch(/new worker generation/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses the load options without --url, a non-loopback URL and a port taken before the start, each in one line (exit 2)', async () => {
    const noUrl = await repro(['watch', '--max-lost', '3', '--', 'true']);
    expect(noUrl.exitCode).toBe(2);
    expect(noUrl.stderr.trim().split('\n')).toHaveLength(1);
    expect(noUrl.stderr).toMatch(/--max-lost applies to the load of --url/);
    const remote = await repro(['watch', '--url', 'http://10.1.2.3:8080/', '--', 'true']);
    expect(remote.exitCode).toBe(2);
    expect(remote.stderr).toMatch(/--url http:\/\/10\.1\.2\.3:8080\/: the load goes to loopback only/);
    const badLost = await repro(['watch', '--url', 'http://127.0.0.1:9/', '--max-lost', '-1', '--', 'true']);
    expect(badLost.exitCode).toBe(2);
    expect(badLost.stderr).toMatch(/--max-lost/);
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = other.address() as AddressInfo;
      const taken = await repro(['watch', '--url', `http://127.0.0.1:${port}/`, '--', 'true']);
      expect(taken.exitCode).toBe(2);
      expect(taken.stderr.trim()).toMatch(/something already listens on 127\.0\.0\.1:\d+ before the program started/);
    } finally {
      other.close();
    }
  }, 30_000);
});

