/**
 * The reloads kind's planning maths: what a scenario run needs from --ulimit
 * and --reloads, computed from the fds its child holds when ready (measured
 * once with no lowered limit), and the reload at which a leaking child meets
 * EMFILE, so that a run that cannot show its pattern is refused before it
 * starts (or, when only the run can tell, right after it). Pure.
 */
import { predictEmfile } from '../../model/measure.js';
import type { Expectation } from '../../model/run-document.js';

/**
 * fds the child takes below `limit`, from its fd numbers read with no lowered
 * limit. The fds it opens itself take the lowest free numbers, so they are the
 * unbroken run from 0; an fd past the first gap was inherited at a fixed number
 * (fd 251 from the shell that started repro, say) and takes a slot only when it
 * is numbered below the limit.
 */
export function slotsBelow(fdNumbers: readonly number[], limit: number): number {
  const open = new Set(fdNumbers);
  let dense = 0;
  while (open.has(dense)) dense++;
  let inheritedBelow = 0;
  for (const fd of open) if (fd > dense && fd < limit) inheritedBelow++;
  return dense + inheritedBelow;
}

export interface LimitsPlan {
  /** The role's name, as the message calls the child (`broken`, `correct`). */
  role: string;
  /** The role must leak to EMFILE (its expectation wants a register failure). */
  leaks: boolean;
  ulimit: number;
  reloads: number;
  /** fds the leaking child leaks per reload. */
  fdsPerReload: number;
  /** fds one reload holds at its peak, leaked ones included, when a reload opens more than it leaves. */
  peakFds?: number;
}

/** The smallest --ulimit a role can show itself under: every child must start, a leaking one must also leak once. */
export function ulimitNeeded(plan: LimitsPlan, slots: number): number {
  return slots + Math.max(plan.peakFds ?? 0, plan.leaks ? plan.fdsPerReload : 0);
}

/** The reload at which the broken child fails with EMFILE, as the verdict predicts it: (ulimit − slots) / fds per reload + 1, earlier when a reload holds more than it leaks. */
export function emfileReload(plan: LimitsPlan, slots: number): number {
  return predictEmfile(plan.ulimit - slots, plan.fdsPerReload, plan.peakFds);
}

/**
 * The one-line usage error for a plan its child cannot carry out, or null.
 * `slots` is what the child holds below the limit when ready; `advise` is the
 * --ulimit to suggest (compare: the larger need of its two children).
 */
export function limitsProblem(plan: LimitsPlan, slots: number, advise = ulimitNeeded(plan, slots)): string | null {
  const need = ulimitNeeded(plan, slots);
  const leaks = plan.leaks ? `, then ${plan.fdsPerReload} more per reload` : '';
  const peak = plan.peakFds ? `; one reload holds ${plan.peakFds} more at its peak` : '';
  const perReload = `${leaks}${peak}`;
  if (plan.ulimit < slots) {
    return `--ulimit ${plan.ulimit} is below what the ${plan.role} child needs to start (${slots} fds when ready${perReload}); use --ulimit ${advise} or more`;
  }
  if (plan.ulimit < need && !plan.leaks) {
    return `--ulimit ${plan.ulimit} leaves the ${plan.role} child no room for one reload (${slots} fds when ready${perReload}); use --ulimit ${advise} or more`;
  }
  if (plan.ulimit < need) {
    return `--ulimit ${plan.ulimit} leaves the ${plan.role} child no room to leak (${slots} fds when ready${perReload}); use --ulimit ${advise} or more`;
  }
  if (plan.leaks) {
    const at = emfileReload(plan, slots);
    if (plan.reloads < at) {
      return (
        `--reloads ${plan.reloads} is too few for the ${plan.role} child to reach EMFILE: it holds ${slots} fds below --ulimit ${plan.ulimit} ` +
        `and leaks ${plan.fdsPerReload} per reload, so EMFILE comes at reload ${at}; use --reloads ${at} or more (or a lower --ulimit)`
      );
    }
  }
  return null;
}

/** What --ulimit and --reloads must allow for a role: a role expected to reach EMFILE must leak there. */
export function limitsFor(role: string, expectation: Expectation, run: { ulimit: number; reloads: number; peakFds?: number }): LimitsPlan {
  return { role, leaks: expectation.registerFailure === 'expected' && expectation.fdsPerReload > 0, ulimit: run.ulimit, reloads: run.reloads, fdsPerReload: expectation.fdsPerReload, peakFds: run.peakFds };
}

/**
 * Whether the children must be measured before the run: only fewer reloads
 * than floor(ulimit / fds per reload) + 1 can be too few whatever a leaking
 * child holds, so only then is a start-up measured.
 */
export function reloadsMayBeTooFew(plans: readonly LimitsPlan[]): boolean {
  return plans.some((l) => l.leaks && l.reloads < emfileReload(l, 0));
}

/** What a role's child holds below its limit when ready. */
export interface Held {
  /** The role's limits plan. */
  limits: LimitsPlan;
  /** fds the child holds below the limit when ready. */
  slots: number;
}

/** The first role whose child cannot carry out its plan, as one line, or null; the child that needs the most speaks first, so the advice covers every role. */
export function firstLimitsProblem(held: readonly Held[]): string | null {
  const known = held.map((h) => ({ ...h, need: ulimitNeeded(h.limits, h.slots) })).sort((a, b) => b.need - a.need);
  const advise = known[0]?.need;
  for (const { limits, slots } of known) {
    const problem = limitsProblem(limits, slots, advise);
    if (problem) return problem;
  }
  return null;
}
