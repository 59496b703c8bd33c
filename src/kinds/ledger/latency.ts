/**
 * signal-during-request's statistic: does a signal stall the requests in
 * flight when it comes? Pure (times in ms on one clock, no I/O).
 *
 * A one-thread server that runs a signal's work on its serving thread delays
 * every request in flight at the signal by that work: all of them, at once.
 * The machine's own tail (another process on the core, a GC pause in the
 * client) delays a request here and there. So a signal is read by the lower
 * median of the latencies of the requests in flight at its instant (with four
 * clients: three of four must be slow), and so is each quiet instant of the
 * same run (in the first second, and between the signals, well after the last
 * one's work). The bound is the median of the quiet instants' readings plus
 * a margin: a loaded machine moves the typical request, and the bound with it,
 * while one slow request in a quiet window moves neither.
 */

/** One answered request: when it started and how long its answer took. */
export interface TimedRequest {
  /** When it was sent, ms on the exercise's clock. */
  startedAt: number;
  /** How long its answer took, ms. */
  latencyMs: number;
}

/** What the quiet instants and the signals read. */
export interface StallReading {
  /** Median of the quiet instants' readings, ms (undefined: no quiet instant had a request in flight). */
  quietMs: number | undefined;
  /** A signal whose reading is over this stalled the requests in flight, ms (infinite when nothing was quiet). */
  boundMs: number;
  /** Each signal's reading (lower median of the latencies in flight at it), ms; undefined when nothing was in flight. */
  atSignalMs: (number | undefined)[];
  /** Each signal: its reading is over the bound. */
  stalled: boolean[];
  /** Quiet instants with a reading. */
  quietInstants: number;
  /** Quiet instants whose reading is over the bound too: the machine's own stalls. */
  quietOverBound: number;
}

/** Latencies of the requests in flight at `at` (sent at or before it, answered after it). */
export function inFlightAt(requests: readonly TimedRequest[], at: number): number[] {
  return requests.filter((r) => r.startedAt <= at && r.startedAt + r.latencyMs > at).map((r) => r.latencyMs);
}

/** The lower median: of four values the second smallest (three of four must be over it to move it). */
export function lowerMedian(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The reading of each signal and quiet instant, and the bound from the quiet ones. */
export function readStalls(requests: readonly TimedRequest[], signalsAt: readonly number[], quietAt: readonly number[], marginMs: number): StallReading {
  const quiet = quietAt.flatMap((at) => {
    const reading = lowerMedian(inFlightAt(requests, at));
    return reading === undefined ? [] : [reading];
  });
  const quietMs = lowerMedian(quiet);
  const boundMs = quietMs === undefined ? Number.POSITIVE_INFINITY : quietMs + marginMs;
  const atSignalMs = signalsAt.map((at) => lowerMedian(inFlightAt(requests, at)));
  return {
    quietMs,
    boundMs,
    atSignalMs,
    stalled: atSignalMs.map((ms) => ms !== undefined && ms > boundMs),
    quietInstants: quiet.length,
    quietOverBound: quiet.filter((ms) => ms > boundMs).length,
  };
}

/** Signals that stalled, against all: at least half is the run showing a stall; some, fewer than half, could be the machine. */
export function stallShown(stalledSignals: number, signals: number): 'stall' | 'none' | 'unclear' {
  if (stalledSignals === 0) return 'none';
  return stalledSignals * 2 >= signals ? 'stall' : 'unclear';
}
