/**
 * Every option a run command takes, declared once: its flag, the range its
 * parser accepts, its help, and its default in each command that has it.
 * `broken`/`correct`/`compare` ("scenario"), `watch` and `drain` build their commander
 * options from this table, so a flag never has two ranges or two meanings; the
 * options a scenario adds (`--channel`) are declared in the scenario and join
 * the scenario commands' table from there (`scenarioCommandOptions`).
 */
import { Option } from 'commander';
import { SCENARIOS } from '../scenarios/index.js';
import type { Scenario } from '../scenarios/types.js';
import { decimal, oneOf, signalName, wholeNumber } from './parse.js';

type Command = 'scenario' | 'watch' | 'drain';

interface Spec {
  /** Commander's flag text, e.g. `--reloads <n>`. */
  flag: string;
  /** Help per command (the same words for both unless they differ in meaning). */
  help: Partial<Record<Command, string>>;
  /** The value parser, which names the flag and the accepted range on bad input. */
  parse?: (value: string) => unknown;
  /** A command's own parser, when its refusal must speak of that command (a shutdown signal, not a reload one). */
  parseFor?: Partial<Record<Command, (value: string) => unknown>>;
  /** Default per command; absent: no default (the option is off unless given). */
  defaults?: Partial<Record<Command, unknown>>;
  /** How the default is shown in --help per command, when not the value itself. */
  shownAs?: Partial<Record<Command, string>>;
}

export const OPTIONS = {
  scenario: { flag: '--scenario <name>', help: { scenario: 'which scenario (repro list shows them)' }, defaults: { scenario: 'sighup-listener' } },
  runtime: { flag: '--runtime <name>', help: { scenario: "runtime of the children (default: the scenario's first; repro list shows which exist)" } },
  pid: { flag: '--pid <pid>', help: { watch: 'attach to a running process instead of starting one' }, parse: wholeNumber('--pid', 1, 2 ** 22) },
  signal: {
    flag: '--signal <name>',
    help: { watch: 'the reload signal', drain: 'the shutdown signal' },
    parse: signalName('--signal', 'reload'),
    parseFor: { drain: signalName('--signal', 'shutdown') },
    defaults: { watch: 'SIGHUP', drain: 'SIGTERM' },
    shownAs: { watch: 'HUP', drain: 'TERM' },
  },
  signalTo: {
    flag: '--signal-to <target>',
    help: {
      watch: 'send the signal to the program, its process group, or every process of its tree that catches it',
      drain: 'send the signal to the program, its process group, or every process of its tree that catches it and the one holding the listener',
    },
    parse: oneOf('--signal-to', ['program', 'group', 'tree'] as const),
    defaults: { watch: 'program', drain: 'program' },
  },
  method: {
    flag: '--method <method>',
    help: {
      drain: 'GET: idempotent requests, each retried once on a new connection when it fails before any response byte on a reused keep-alive connection (RFC 9110 §9.2.2); POST: non-idempotent, never retried',
      watch: 'with --url: GET (default; retried once after the keep-alive close race, RFC 9110 §9.2.2) or POST (never retried)',
    },
    parse: oneOf('--method', ['GET', 'POST'] as const),
    defaults: { drain: 'GET' },
  },
  readyUrl: {
    flag: '--ready-url <url>',
    help: { drain: 'a health endpoint asked for readiness (200 = up) instead of --url; loopback only, like --url', watch: 'with --url: a health endpoint asked for readiness (2xx = up) instead of --url; loopback only' },
  },
  attribute: {
    flag: '--attribute',
    help: {
      watch: 'run the program under strace (-f -k) and name, for each fd that survived, the call, reload and stack that made it (needs strace and ptrace; the start-up wait is 6× --ready-timeout)',
      scenario: 'run each child under strace (-f -k) and name, for each fd it leaked (open at the end, not at the baseline), the call, reload and stack that made it (needs strace and ptrace; the ready wait is 6× --ready-timeout; not for load-and-signal scenarios)',
    },
  },
  log: { flag: '--log <file>', help: { watch: "a log file the program writes (e.g. nginx's error.log), followed from its size at start: EMFILE text written there after the first signal is EMFILE seen" } },
  url: {
    flag: '--url <url>',
    help: {
      drain: 'where the server answers: readiness (200 = up) and every request; http:// on a loopback address only: 127.0.0.0/8 or [::1], e.g. http://127.0.0.1:PORT/PATH',
      watch: 'load the program here from readiness to after the last reload and fail when a reload loses a request (refused, reset, 5xx, timeout, cut); http:// on a loopback address only',
    },
  },
  maxLost: {
    flag: '--max-lost <n>',
    help: { watch: 'with --url: most requests the reloads may lose and still pass' },
    parse: wholeNumber('--max-lost', 0, 10_000_000),
  },
  ulimit: {
    flag: '--ulimit <n>',
    help: { scenario: 'RLIMIT_NOFILE (soft and hard) for the children', watch: 'lower RLIMIT_NOFILE (soft and hard) of the started program' },
    parse: wholeNumber('--ulimit', 8, 1_048_576),
    defaults: { scenario: 64 },
  },
  reloads: { flag: '--reloads <n>', help: { scenario: 'reload signals to send at most', watch: 'signals to send' }, parse: wholeNumber('--reloads', 1, 10_000_000), defaults: { scenario: 500, watch: 20 } },
  ackTimeout: { flag: '--ack-timeout <ms>', help: { scenario: 'wait this long for each reload to be acknowledged' }, parse: wholeNumber('--ack-timeout', 1, 600_000), defaults: { scenario: 2000 } },
  settle: { flag: '--settle <ms>', help: { watch: 'the window the fd count (or its floor) must hold at start-up, and after a signal where threads cannot be judged; once every thread is back idle, min(15, this) ms' }, parse: wholeNumber('--settle', 1, 600_000), defaults: { watch: 100 } },
  settleTimeout: {
    flag: '--settle-timeout <ms>',
    help: { watch: 'give up on a signal whose fd count keeps changing after this long' },
    parse: wholeNumber('--settle-timeout', 1, 3_600_000),
    defaults: { watch: 5000 },
  },
  readyAfter: { flag: '--ready-after <ms>', help: { watch: 'wait exactly this long at start instead of waiting for the fd count to settle' }, parse: wholeNumber('--ready-after', 0, 3_600_000) },
  readyTimeout: {
    flag: '--ready-timeout <ms>',
    help: { scenario: 'wait this long for the child to say ready', watch: 'give up when the fd count has not settled at start after this long', drain: 'give up when --url has not answered 200 after this long' },
    parse: wholeNumber('--ready-timeout', 1, 3_600_000),
    defaults: { scenario: 10_000, watch: 10_000, drain: 10_000 },
  },
  deadCheck: {
    flag: '--dead-check <ms>',
    help: { scenario: 'after EMFILE, wait this long for one more reload before calling signal handling dead' },
    parse: wholeNumber('--dead-check', 1, 600_000),
    defaults: { scenario: 300 },
  },
  grace: {
    flag: '--grace <ms>',
    help: { scenario: 'after SIGTERM, wait this long before SIGKILL', watch: 'after SIGTERM, wait this long before SIGKILL', drain: 'after the signal, SIGKILL the server if it is still there after this long' },
    parse: wholeNumber('--grace', 0, 600_000),
    defaults: { scenario: 2000, watch: 2000, drain: 5000 },
  },
  maxGrowth: {
    flag: '--max-growth <fds>',
    help: { scenario: 'largest fd growth per reload that still counts as flat', watch: 'largest number of fds per reload still open at the end that passes' },
    parse: decimal('--max-growth', 0, 1_000_000),
    defaults: { scenario: 0.01, watch: 0.1 },
  },
  lag: {
    flag: '--lag <ms>',
    help: { scenario: 'graceful-drain: clients keep opening connections this long after SIGTERM (routing lag)', drain: 'clients keep opening connections this long after the signal (routing lag)' },
    parse: wholeNumber('--lag', 0, 600_000),
    defaults: { scenario: 300, drain: 0 },
  },
  requests: { flag: '--requests <n>', help: { scenario: 'graceful-drain: most requests the load sends', drain: 'most requests the load sends' }, parse: wholeNumber('--requests', 1, 10_000_000), defaults: { scenario: 20_000, drain: 20_000 } },
  concurrency: { flag: '--concurrency <n>', help: { scenario: 'graceful-drain: concurrent clients', drain: 'concurrent clients', watch: 'with --url: concurrent clients (default 8)' }, parse: wholeNumber('--concurrency', 1, 1000), defaults: { scenario: 30, drain: 30 } },
  seed: {
    flag: '--seed <n>',
    // Two runs with one seed lost 34 and 56: the seed fixes the plan, not the kernel's and the server's timing.
    help: {
      scenario: 'graceful-drain: seed of the client mix and of the moment SIGTERM comes; the same seed sends the same plan, but how many requests are lost still varies from run to run with scheduling',
      drain: 'seed of the client mix and of the moment the signal comes; the same seed sends the same plan, but how many requests are lost still varies from run to run with scheduling',
    },
    parse: wholeNumber('--seed', 0, 2 ** 31),
    defaults: { scenario: 1, drain: 1 },
  },
} satisfies Record<string, Spec>;

export type OptionName = keyof typeof OPTIONS;

/** The commander option for `name` as `command` has it: its help and its default there. */
export function optionFor(name: OptionName, command: Command): Option {
  const spec: Spec = OPTIONS[name];
  const option = new Option(spec.flag, spec.help[command] ?? '');
  const parse = spec.parseFor?.[command] ?? spec.parse;
  if (parse) option.argParser(parse);
  const value = spec.defaults?.[command];
  if (value !== undefined) option.default(value, spec.shownAs?.[command]);
  return option;
}

/** The default of `name` in `command` (what a run gets when the flag is not given). */
export function defaultOf<T>(name: OptionName, command: Command): T {
  return (OPTIONS[name] as Spec).defaults?.[command] as T;
}

/** The shared options of broken/correct/compare, in --help order; the scenarios' own options go after `runtime`. */
const SCENARIO_COMMAND_HEAD = ['scenario', 'runtime'] as const satisfies readonly OptionName[];
const SCENARIO_COMMAND_RUN = ['ulimit', 'reloads', 'ackTimeout', 'readyTimeout', 'deadCheck', 'grace', 'maxGrowth', 'lag', 'requests', 'concurrency', 'seed', 'attribute'] as const satisfies readonly OptionName[];

/** The commander option a scenario declares, its help naming the scenario. */
function scenarioOption(scenario: Scenario, declared: Scenario['options'][number]): Option {
  return new Option(declared.flag, `${scenario.name}'s ${declared.help}`).argParser(oneOf(declared.flag.split(' ')[0] as string, declared.choices)).default(declared.default);
}

/**
 * The option table of broken/correct/compare: the shared run options, and
 * every option a scenario declares (each flag once: two scenarios declaring the
 * same flag is a mistake caught when the table is built).
 */
export function scenarioCommandOptions(scenarios: readonly Scenario[] = SCENARIOS): Option[] {
  const sharedFlags = new Set((Object.values(OPTIONS) as Spec[]).map((spec) => spec.flag.split(' ')[0]));
  const declared = new Map<string, string>();
  const own: Option[] = [];
  for (const scenario of scenarios) {
    for (const option of scenario.options) {
      const flag = option.flag.split(' ')[0] as string;
      const taken = declared.get(flag) ?? (sharedFlags.has(flag) ? 'the shared run options' : undefined);
      if (taken) throw new Error(`${scenario.name} declares ${flag}, which ${taken} already has`);
      declared.set(flag, scenario.name);
      own.push(scenarioOption(scenario, option));
    }
  }
  return [...SCENARIO_COMMAND_HEAD.map((name) => optionFor(name, 'scenario')), ...own, ...SCENARIO_COMMAND_RUN.map((name) => optionFor(name, 'scenario'))];
}

/** What broken/correct/compare get for each option the user leaves out: the shared defaults and every scenario option's own. */
export function scenarioCommandDefaults(scenarios: readonly Scenario[] = SCENARIOS): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of [...SCENARIO_COMMAND_HEAD, ...SCENARIO_COMMAND_RUN]) {
    const value = defaultOf(name, 'scenario');
    if (value !== undefined) out[name] = value;
  }
  for (const option of scenarios.flatMap((s) => s.options)) out[option.key] = option.default;
  return out;
}
