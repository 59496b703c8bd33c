/**
 * `repro probe PID`'s table: its own module, so a one-shot probe loads this, not every view of a
 * run. Its one style (bold) is written as the ANSI pair chalk writes for it, without loading
 * chalk and its terminal detection (node:tty, node:net) on the start-up fast path.
 */
import type { ProbeSnapshot } from '../model/probe-snapshot.js';
import { visibleLine } from './text.js';

/** What formatProbe needs of the terminal (a subset of summary.ts's ViewOptions). */
export interface ProbeViewOptions {
  /** Paint with ANSI colours. */
  color: boolean;
}

export function formatProbe(snapshot: ProbeSnapshot, view: ProbeViewOptions): string {
  const bold = (text: string) => (view.color ? `\u001b[1m${text}\u001b[22m` : text);
  const out = [bold(`pid ${snapshot.pid} · ${snapshot.count} open fds · ${snapshot.backend}`), ''];
  out.push(`  ${'FD'.padStart(6)}  ${'KIND'.padEnd(10)}  TARGET`);
  for (const fd of snapshot.fds) out.push(`  ${String(fd.fd).padStart(6)}  ${fd.kind.padEnd(10)}  ${visibleLine(fd.target)}`);
  out.push('', '  by kind: ' + Object.entries(snapshot.byKind).sort((a, b) => (b[1] as number) - (a[1] as number)).map(([k, n]) => `${k} ${n}`).join(', '));
  const { soft, hard } = snapshot.limits;
  const fmtLimit = (n: number | null) => (n === null ? 'unknown' : String(n));
  const headroom = snapshot.headroom === null ? '' : ` · headroom ${snapshot.headroom} (${((100 * snapshot.count) / (soft as number)).toFixed(1)}% used)`;
  out.push(`  limit: soft ${fmtLimit(soft)}, hard ${fmtLimit(hard)}${headroom}`);
  if (snapshot.rssKb !== null) out.push(`  rss: ${snapshot.rssKb} KiB`);
  return out.join('\n');
}
