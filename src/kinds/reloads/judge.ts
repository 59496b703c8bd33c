/** The reloads kind's judge: the shared fd checks, nothing of its own. */
import type { Expectation, MeasuredRun, Verdict } from '../../model/run-document.js';
import { judgeFdRun } from '../shared/fd-judge.js';

export function judgeReloads(run: MeasuredRun, expectation: Expectation): Verdict {
  return judgeFdRun(run, expectation);
}
