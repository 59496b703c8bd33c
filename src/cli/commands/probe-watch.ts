/** `repro probe <pid> --watch`: sample a process until Ctrl-C or its exit, live chart on a terminal, then a summary. */
import { setTimeout as delay } from 'node:timers/promises';
import { diffSnapshots } from '../../fdprobe/diff.js';
import { ProbeError } from '../../fdprobe/errors.js';
import { countKinds } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { round, slope } from '../../model/stats.js';
import { renderChart } from '../../report/chart.js';
import { formatKinds } from '../../report/facts.js';
import { ExitCode } from '../../errors.js';
import { canRedraw } from '../../report/progress.js';
import { exitCodeFor, Interruption, workingProbe } from '../context.js';
import { translateProbeError } from '../preflight.js';

interface WatchView {
  color: boolean;
  width: number;
  chart: boolean;
  json: boolean;
}

/** Resolves with the exit code: 0 when the process ends, 130 / 143 after Ctrl-C / SIGTERM (the summary is printed either way). */
export async function probeWatch(pid: number, intervalMs: number, view: WatchView): Promise<number> {
  // From the start: a Ctrl-C during the first probe still ends with the summary and 130.
  const interruption = new Interruption('printing the summary');
  try {
    return await watchUntilStopped(pid, intervalMs, view, interruption);
  } finally {
    interruption.dispose();
  }
}

async function watchUntilStopped(pid: number, intervalMs: number, view: WatchView, interruption: Interruption): Promise<number> {
  const probe = await workingProbe();
  let first: FdEntry[];
  try {
    first = await probe.list(pid);
  } catch (error) {
    translateProbeError(error, pid);
  }
  const limit = (await probe.limits(pid)).soft ?? undefined;
  const counts: number[] = [first.length];
  const times: number[] = [0];
  let last = first;
  let gone = false;
  const t0 = performance.now();
  const live = view.chart && canRedraw(process.stdout) && !view.json;
  const stopped = interruption.controller.signal;
  let drawnLines = 0;
  const draw = () => {
    const chart = renderChart([{ label: `pid ${pid}`, values: counts.slice(-400), color: 'cyan' }], { limit, width: view.width, height: 10, color: view.color, xLabel: `sample, one every ${intervalMs} ms →` });
    const text = `${chart}\n  ${counts.length} samples · ${counts.at(-1)} fds · Ctrl-C to stop`;
    process.stdout.write(`${drawnLines ? `\x1b[${drawnLines}A\x1b[0J` : ''}${text}\n`);
    drawnLines = text.split('\n').length;
  };
  /** The newest sample: the live chart redrawn, or one plain line (not with --json). */
  const show = () => {
    if (live) draw();
    else if (!view.json) {
      const change = (counts.at(-1) ?? 0) - (counts.at(-2) ?? counts.at(-1) ?? 0);
      process.stdout.write(`${new Date().toISOString()}  fds ${counts.at(-1)}  (${change >= 0 ? '+' : ''}${change})\n`);
    }
  };
  // The first sample at once, not one interval later.
  show();
  while (!stopped.aborted) {
    try {
      await delay(intervalMs, undefined, { signal: stopped });
    } catch {
      break; // Ctrl-C or SIGTERM: the wait ends at once
    }
    try {
      last = await probe.list(pid);
    } catch (error) {
      if (error instanceof ProbeError && error.failure === 'gone') {
        gone = true;
        break;
      }
      throw error;
    }
    counts.push(last.length);
    times.push((performance.now() - t0) / 1000);
    show();
  }
  const diff = diffSnapshots(first, last);
  const summary = {
    pid,
    samples: counts.length,
    seconds: round((performance.now() - t0) / 1000, 2),
    firstFds: first.length,
    lastFds: last.length,
    growthPerMinute: round(slope(times, counts) * 60, 3),
    opened: diff.opened.length,
    closed: diff.closed.length,
    netByKind: diff.netByKind,
    byKind: countKinds(last.map((f) => f.kind)),
    processGone: gone,
  };
  if (view.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    process.stdout.write(
      [
        '',
        `pid ${pid}: ${summary.samples} samples over ${summary.seconds} s${gone ? ' (the process ended)' : ''}`,
        `  fds ${summary.firstFds} → ${summary.lastFds}, ${summary.growthPerMinute} fds/minute`,
        `  opened ${summary.opened}, closed ${summary.closed}; net by kind: ${formatKinds(summary.netByKind)}`,
        '',
      ].join('\n'),
    );
  }
  return interruption.signal ? exitCodeFor(interruption.signal) : ExitCode.OK;
}
