/** `repro monitor`: the exporter, run until SIGTERM or SIGINT, then stopped cleanly (exit 0). */
import { Exporter } from '../../monitor/exporter.js';
import { checkMonitorOptions, checkTextfile, parseDuration, type MonitorOptions } from '../../monitor/options.js';
import { ProcfsView } from '../../proc/procfs-view.js';

/** What commander hands over (repeatable flags as lists). */
export interface MonitorFlags {
  /** --pid, repeatable. */
  pid?: number[];
  /** --match, repeatable. */
  match?: RegExp[];
  /** --cgroup, repeatable. */
  cgroup?: string[];
  /** --listen HOST:PORT. */
  listen?: { host: string; port: number };
  /** --textfile PATH. */
  textfile?: string;
  /** --interval, as given (a duration: 500ms, 30s, 5m). */
  interval: string;
  /** --age, as given (a duration). */
  age: string;
  /** --log FILE. */
  log?: string;
  /** --reload-pattern REGEX. */
  reloadPattern?: RegExp;
}

export function monitorOptions(flags: MonitorFlags): MonitorOptions {
  const options: MonitorOptions = {
    pids: flags.pid ?? [],
    matches: flags.match ?? [],
    cgroups: flags.cgroup ?? [],
    listen: flags.listen,
    textfile: flags.textfile,
    intervalMs: parseDuration('--interval', flags.interval, 100, 3_600_000),
    ageMs: parseDuration('--age', flags.age, 0, 30 * 86_400_000),
    log: flags.log,
    reloadPattern: flags.reloadPattern,
  };
  checkMonitorOptions(options);
  if (options.textfile !== undefined) options.textfile = checkTextfile(options.textfile);
  return options;
}

/** Runs until SIGTERM or SIGINT; resolves to the exit code (0: stopped as asked). */
export async function monitorCommand(flags: MonitorFlags): Promise<number> {
  const options = monitorOptions(flags);
  const exporter = new Exporter(options, new ProcfsView());
  let stop: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => (stop = resolve));
  // Listening for the signals before start: a TERM during the first collection still stops cleanly.
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const address = await exporter.start();
    const where = [address ? `serving http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics` : '', options.textfile ? `writing ${options.textfile}` : '']
      .filter(Boolean)
      .join(' and ');
    process.stderr.write(`repro monitor: ${where}, every ${options.intervalMs} ms; SIGTERM or Ctrl-C stops\n`);
    const signal = await stopped;
    process.stderr.write(`repro monitor: ${signal} received, stopped\n`);
    return 0;
  } finally {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
    await exporter.stop();
  }
}
