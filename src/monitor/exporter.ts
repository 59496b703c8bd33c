/**
 * `repro monitor`'s engine: collects every --interval (discover → read the
 * log → read each process → build the families), keeps the last exposition,
 * serves it on --listen and writes it to --textfile. Collection runs on its
 * own clock, not per scrape: two Prometheus servers (HA pairs) or a curl in a
 * loop cost nothing more, and the fd ages need readings whether anyone
 * scrapes or not.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvironmentError } from '../errors.js';
import { replaceFileAtomically } from '../report/write-file.js';
import type { ProcessView } from '../proc/view.js';
import { Discovery, type Target } from './discovery.js';
import { acceptsOpenMetrics, OPENMETRICS_CONTENT_TYPE, render, TEXT_CONTENT_TYPE, type Family } from './exposition.js';
import { ReloadLog } from './log-reloads.js';
import { familiesOf } from './metrics.js';
import type { MonitorOptions } from './options.js';
import { ProcessReader, type ReloadClock } from './readings.js';

/** Most processes read per collection: a --match that picks the whole machine stays bounded in time and memory. */
export const MAX_PROCESSES = 1000;
/** A reload counts for the survivors once its line is this old: the program has had time to close what it replaced. */
export const RELOAD_SETTLE_MS = 1000;

export class Exporter {
  readonly #discovery: Discovery;
  readonly #reader: ProcessReader;
  readonly #log: ReloadLog | undefined;
  #server: Server | undefined;
  #timer: NodeJS.Timeout | undefined;
  #families: Family[] = [];
  #text: { openMetrics?: string; plain?: string } = {};
  #collections = 0;
  #unreadableTotal = 0;
  #stopped = false;

  constructor(
    private readonly options: MonitorOptions,
    private readonly view: ProcessView,
  ) {
    this.#discovery = new Discovery(view, options);
    this.#reader = new ProcessReader(view, options.ageMs);
    this.#log = options.log !== undefined && options.reloadPattern ? new ReloadLog(options.log, options.reloadPattern) : undefined;
  }

  /** Collects once, then listens (when asked) and collects every interval; resolves to the address served, if any. */
  async start(): Promise<AddressInfo | undefined> {
    this.collect();
    const address = this.options.listen ? await this.#listen(this.options.listen) : undefined;
    this.#schedule();
    return address;
  }

  /** One collection: new families, the textfile replaced. Synchronous: a signal handler never runs in the middle of a textfile write. */
  collect(): void {
    const t0 = performance.now();
    const picked = this.#discovery.discover();
    const perMatch = this.#perMatch(picked);
    const targets = picked.slice(0, MAX_PROCESSES);
    const nowMs = this.view.now();
    const { readings, unreadable } = this.#reader.readAll(targets, this.#reloadClock(nowMs));
    // After the listings: see ProcessReader.stamp.
    this.#log?.poll(nowMs);
    this.#reader.stamp(this.#log?.count ?? 0);
    this.#unreadableTotal += unreadable;
    this.#collections++;
    this.#families = familiesOf({
      readings,
      perMatch,
      dropped: picked.length - targets.length,
      unreadable,
      reloads: this.#log?.count,
      durationSeconds: (performance.now() - t0) / 1000,
      collections: this.#collections,
      unreadableTotal: this.#unreadableTotal,
      selfRssBytes: process.memoryUsage.rss(),
      ageMs: this.options.ageMs,
    });
    this.#text = {};
    if (this.options.textfile) this.#writeTextfile(this.options.textfile);
  }

  /** The last exposition, in OpenMetrics or the Prometheus text format. */
  exposition(openMetrics: boolean): string {
    const key = openMetrics ? 'openMetrics' : 'plain';
    return (this.#text[key] ??= render(this.#families, openMetrics));
  }

  /** Stops collecting and closes the listener and every connection on it; the textfile stays as last written (always whole). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#log?.close();
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #perMatch(picked: Target[]): Map<string, number> {
    const counts = new Map<string, number>();
    if (this.options.pids.length > 0) counts.set('pid', 0);
    for (const re of this.options.matches) counts.set(re.source, 0);
    for (const path of this.options.cgroups) counts.set(`cgroup:${path}`, 0);
    for (const t of picked) counts.set(t.match, (counts.get(t.match) ?? 0) + 1);
    return counts;
  }

  #reloadClock(nowMs: number): ReloadClock {
    if (!this.#log) return { seen: 0, settled: 0 };
    const recent = this.#log.seenAtMs.filter((t) => nowMs - t < RELOAD_SETTLE_MS).length;
    return { seen: this.#log.count, settled: this.#log.count - recent };
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      try {
        this.collect();
      } catch (error) {
        // A textfile that cannot be written now (disk full) is said once per collection; the listener keeps serving.
        process.stderr.write(`repro monitor: ${(error as Error).message}\n`);
      }
      this.#schedule();
    }, this.options.intervalMs);
  }

  #writeTextfile(path: string): void {
    try {
      // node_exporter's textfile collector parses the Prometheus text format, not OpenMetrics.
      replaceFileAtomically(path, Buffer.from(this.exposition(false)));
    } catch (error) {
      throw new EnvironmentError(`--textfile ${path}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the last whole file is left as it was`, { cause: error });
    }
  }

  #listen(listen: { host: string; port: number }): Promise<AddressInfo> {
    const server = createServer((req, res) => this.#serve(req, res));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : (error.code ?? error.message);
        reject(new EnvironmentError(`--listen ${listen.host}:${listen.port}: cannot listen (${why}); pick another port`, { cause: error }));
      });
      server.listen(listen.port, listen.host, () => resolve(server.address() as AddressInfo));
    });
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET and HEAD\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('repro monitor: the metrics are at /metrics\n');
      return;
    }
    const openMetrics = acceptsOpenMetrics(req.headers.accept);
    const body = this.exposition(openMetrics);
    res.writeHead(200, { 'content-type': openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
