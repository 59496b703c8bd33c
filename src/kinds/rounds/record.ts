/** A rounds run's part of the run document (runtime-teardown): what each round left is in its `round` events. */
import type { Attribution } from '../../model/run-document.js';

export interface RoundsRecord {
  /** A round per signal, each phase marker held and snapshotted. */
  measurement: 'rounds';
  /** --attribute: the call, reload and stack that made each leaked fd. */
  attribution?: Attribution;
}
