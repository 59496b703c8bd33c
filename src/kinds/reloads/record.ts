/** A protocol reload run's part of the run document (sighup-listener, log-reopen): the loop's numbers are in the common fields. */
import type { Attribution } from '../../model/run-document.js';

export interface ReloadsRecord {
  /** Reloads acknowledged through the protocol, one signal each. */
  measurement: 'reloads';
  /** --attribute: the call, reload and stack that made each leaked fd (open at the last sample, not at the baseline). */
  attribution?: Attribution;
}
