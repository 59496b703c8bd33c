/** A load-and-signal run's part of the run document (graceful-drain, repro drain). */
import type { DrainRecord } from '../../model/drain.js';

export interface DrainRunRecord {
  /** A server under load across one shutdown signal. */
  measurement: 'drain';
  /** The ledger of every request, the shutdown timings, the bounded timeline, phase events and plan; absent when the run ended before any load. */
  drain?: DrainRecord;
}
