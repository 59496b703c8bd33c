/** The rounds kind's judge: fds left per round are the growth per reload, judged by the shared fd checks. */
import type { Expectation, MeasuredRun, Verdict } from '../../model/run-document.js';
import { judgeFdRun } from '../shared/fd-judge.js';

export function judgeRounds(run: MeasuredRun, expectation: Expectation): Verdict {
  return judgeFdRun(run, expectation);
}
