/**
 * The repro program: declares commands and options, runs a command function,
 * prints views of the document it returns, and maps every failure to one
 * line and an exit code in one place.
 */
import { usageLine } from './usage-line.js';
import { Command, CommanderError, Option } from 'commander';
import { runsOf } from '../model/baseline.js';
import type { ReproDocument, Sample } from '../model/run-document.js';
import { FORMAT_NAMES, REPORT_FORMATS, type ReportOptions } from '../report/formats-list.js';
import type { ViewOptions } from '../report/summary.js';
import type { CommandHooks } from './commands/scenario.js';
import type { ScenarioOptions } from './scenario-options.js';
import type { DrainOptions } from './commands/drain.js';
import { OPTIONS, optionFor, scenarioCommandOptions } from './options.js';
import type { WatchOptions } from './commands/watch.js';
import { Interruption, ownHardFdLimit, terminalWidth, textColumns, useColor, workingProbe } from './context.js';
import { EnvironmentError, ExitCode } from '../errors.js';
import { checkSettleWindows, decimal, wholeNumber } from './parse.js';
import { addExamples } from './examples.js';
import { guardStdout } from './stdout.js';
import { reportFailure } from './failure.js';
import { VERSION } from './version.js';
import type { MonitorFlags } from './commands/monitor.js';
import { formatDuration, listenAddress, parseDuration, regex } from '../monitor/options.js';
import { RULES_DEFAULTS } from '../monitor/rules.js';

type OutputOptions = ReportOptions & { /** --quiet: the verdict line alone. */ quiet?: boolean };

/** --json, the report files, the baseline gate and --no-chart: shared by every command that makes a run document. */
function addReportOptions(command: Command): Command {
  command.option('--json', 'print the run document as JSON instead of the summary');
  for (const name of FORMAT_NAMES) {
    const { flag, what } = REPORT_FORMATS[name];
    command.option(`${flag} <file>`, `write ${what} to FILE (atomically; - for stdout)`);
  }
  return command
    .option('--baseline <file>', 'compare with a saved run document (--out) of the same scenario and fail (exit 1) when what the verdict measures got worse (growth per reload; fds surviving per reload for watch; requests lost for drain)')
    .addOption(new Option('--baseline-tolerance <fds>', 'largest rise that still passes --baseline (fd/reload; requests for drain)').default(0.05).argParser(decimal('--baseline-tolerance', 0, 1_000_000)))
    .option('--no-step-summary', 'do not append the Markdown summary to $GITHUB_STEP_SUMMARY')
    .option('--no-chart', 'leave the terminal chart out of the summary')
    .option('-q, --quiet', 'print only the verdict line (PASS/FAIL/INCONCLUSIVE; a FAIL with its first failed check) and no progress; the exit code and every file written are the same');
}

/** broken/correct/compare: the shared run options and every scenario's own (declared in the scenario). */
function addScenarioOptions(command: Command): Command {
  for (const option of scenarioCommandOptions()) command.addOption(option);
  return command;
}

/** The option keys the user set on the command line (not commander's defaults). */
function givenOptions(command: Command): string[] {
  return command.options.map((o) => o.attributeName()).filter((key) => {
    const source = command.getOptionValueSource(key);
    return source !== undefined && source !== 'default';
  });
}

function view(options: { chart: boolean }): ViewOptions {
  return { color: useColor(), width: terminalWidth(), columns: textColumns(), chart: options.chart };
}

// Command and report modules load inside the actions: a one-shot `repro probe` should not pay for the rest.
const load = {
  scenario: () => import('./commands/scenario.js'),
  watch: () => import('./commands/watch.js'),
  drain: () => import('./commands/drain.js'),
  probe: () => import('./commands/probe.js'),
  probeWatch: () => import('./commands/probe-watch.js'),
  summary: () => import('../report/summary.js'),
  outputs: () => import('../report/outputs.js'),
  loadDocument: () => import('../report/load-document.js'),
  progress: () => import('../report/progress.js'),
};

/** Checks the outputs before a run, then writes every view of the document it returns; resolves to the document (with any baseline check). */
async function report<D extends ReproDocument>(options: OutputOptions, produces: string[], run: () => Promise<D>): Promise<ReproDocument> {
  const outputs = await load.outputs();
  const prepared = outputs.prepareReports(options, produces);
  const doc = outputs.applyBaseline(await run(), options, prepared);
  (await load.progress()).finishProgress(); // the summary starts at column 0, never after a progress line
  const { formatDocument, formatVerdictLine } = await load.summary();
  await outputs.emitReports(doc, options, prepared, () => (options.quiet ? formatVerdictLine : formatDocument)(doc, view(options)));
  return doc;
}

/** --quiet of the command being run: no progress line either. */
let quiet = false;

/** 0 pass, 1 fail, 4 inconclusive (a run, or a compare whose failing runs could not tell), or the interrupting signal's code. */
function exitForDocument(doc: ReproDocument, interruption?: Interruption): number {
  if (interruption?.signal) return interruption.signal === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
  if (doc.verdict.pass) return ExitCode.OK;
  return doc.verdict.inconclusive === true ? ExitCode.INCONCLUSIVE : ExitCode.VERDICT_FAILED;
}

async function withHooks<T>(action: (hooks: CommandHooks, interruption: Interruption) => Promise<T>): Promise<T> {
  const interruption = new Interruption();
  const progress = new (await load.progress()).Progress(quiet ? undefined : process.stderr);
  try {
    return await action(
      {
        probe: await workingProbe(),
        abort: interruption.controller.signal,
        hardLimit: ownHardFdLimit(),
        onChild: (child) => interruption.track(child),
        onSample: (sample: Sample, plan: { pattern: string; reloads: number }) => progress.update(plan.pattern, sample, plan.reloads),
      },
      interruption,
    );
  } finally {
    progress.clear();
    interruption.dispose();
  }
}

/** Every command but probe resolves paths or starts programs in the working directory: one that was deleted is one line, before anything starts. */
function checkWorkingDirectory(): void {
  try {
    process.cwd();
  } catch (error) {
    throw new EnvironmentError('the current directory no longer exists (it was deleted); cd to a directory that exists and run repro again', { cause: error });
  }
}

/** `repro monitor` (the Prometheus exporter) and `repro rules` (its alerting rules): src/monitor/. */
function addMonitorCommands(program: Command, setExit: (code: number) => void): void {
  const many = <T>(parse: (value: string) => T) => (value: string, previous: T[] | undefined) => [...(previous ?? []), parse(value)];
  program
    .command('monitor')
    .description('export fd health of running processes to Prometheus (OpenMetrics on --listen, a .prom file for node_exporter with --textfile) until SIGTERM')
    .addOption(new Option('--pid <pid>', 'watch this process (repeatable)').argParser(many(wholeNumber('--pid', 1, 2 ** 22))))
    .addOption(new Option('--match <regex>', 'watch every process whose command line matches, new pids included (repeatable)').argParser(many(regex('--match'))))
    .addOption(new Option('--cgroup <path>', 'watch every process in this cgroup and its children (repeatable)').argParser(many((v: string) => v)))
    .addOption(new Option('--listen <host:port>', 'serve /metrics on this loopback address (port 0: any free port)').argParser(listenAddress))
    .option('--textfile <file>', "replace this .prom file atomically after every collection (node_exporter's textfile collector)")
    .option('--interval <duration>', 'time between collections (500ms, 30s, 5m)', '5s')
    .option('--age <duration>', 'an fd open this long counts as old (repro_process_old_fds)', '10m')
    .option('--log <file>', "the service's log, followed for reload lines")
    .addOption(new Option('--reload-pattern <regex>', "a line of --log that says a reload happened (nginx: 'signal 1 \\(SIGHUP\\) received')").argParser(regex('--reload-pattern')))
    .action(async (flags: MonitorFlags) => {
      setExit(await (await import('./commands/monitor.js')).monitorCommand(flags));
    });
  program
    .command('rules')
    .description("print Prometheus alerting rules (YAML) for repro monitor's metrics: fd headroom, EMFILE predicted, fds surviving reloads")
    .addOption(new Option('--headroom <fraction>', 'fire when less than this fraction of the fd limit is left').default(RULES_DEFAULTS.headroom).argParser(decimal('--headroom', 0.001, 0.999)))
    .addOption(new Option('--hours <n>', 'fire when the fd limit is reached within this many hours').default(RULES_DEFAULTS.hours).argParser(decimal('--hours', 0.01, 10_000)))
    .option('--window <duration>', 'range the prediction and the survivors rule look back over', formatDuration(RULES_DEFAULTS.windowMs))
    .option('--for <duration>', 'how long a condition holds before the alert fires', formatDuration(RULES_DEFAULTS.forMs))
    .addOption(new Option('--min-survivors <n>', 'fds kept across reloads within --window that fire the survivors rule').default(RULES_DEFAULTS.minSurvivors).argParser(wholeNumber('--min-survivors', 1, 1_000_000)))
    .action(async (options: { headroom: number; hours: number; window: string; for: string; minSurvivors: number }) => {
      const windowMs = parseDuration('--window', options.window, 1000, 30 * 86_400_000);
      const forMs = parseDuration('--for', options.for, 0, 30 * 86_400_000);
      (await import('./commands/rules.js')).rulesCommand({ headroom: options.headroom, hours: options.hours, windowMs, forMs, minSurvivors: options.minSurvivors });
    });
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('repro')
    .description('Reproduce, measure and gate fd leaks from per-reload signal listeners')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(usageLine(text)) })
    .hook('preAction', (_program, command) => {
      quiet = Boolean(command.opts().quiet);
      if (command.name() !== 'probe') checkWorkingDirectory();
    });

  for (const pattern of ['broken', 'correct'] as const) {
    const what =
      pattern === 'broken'
        ? 'run the broken child: a new listener + native channel per SIGHUP, never closed, until EMFILE'
        : 'run the correct child: one process-wide signal hub, fds flat over every reload';
    addReportOptions(addScenarioOptions(program.command(pattern).description(what))).action(async (options: ScenarioOptions & OutputOptions, command: Command) => {
      options.given = givenOptions(command);
      await withHooks(async (hooks, interruption) => {
        const doc = await report(options, [pattern], async () => (await load.scenario()).runPattern(pattern, options, hooks));
        setExit(exitForDocument(doc, interruption));
      });
    });
  }

  addReportOptions(addScenarioOptions(program.command('compare').description('run every role of the scenario side by side; exit 0 only when each shows what it should (broken leaks to EMFILE, correct stays flat)'))).action(
    async (options: ScenarioOptions & OutputOptions, command: Command) => {
      options.given = givenOptions(command);
      await withHooks(async (hooks, interruption) => {
        const doc = await report(options, (await load.scenario()).rolesOf(options), async () => (await load.scenario()).runCompare(options, hooks));
        setExit(exitForDocument(doc, interruption));
      });
    },
  );
  program
    .command('list')
    .description('show the scenarios, their roles, the runtimes each can run in here, and what each shows')
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean }) => {
      const { listScenarios, formatList } = await import('./commands/list.js');
      const list = listScenarios();
      process.stdout.write(options.json ? `${JSON.stringify(list, null, 2)}\n` : `${formatList(list, useColor(), textColumns())}\n`);
    });

  const watch = program
    .command('watch')
    .description('drive any program with signals and fail when fds its reloads opened stay open (exit 1), or when it cannot take them (exit 4)')
    .argument('[command...]', 'the program and its arguments, after --')
    .passThroughOptions();
  for (const name of ['pid', 'signal', 'reloads', 'ulimit', 'settle', 'settleTimeout', 'readyAfter', 'readyTimeout', 'maxGrowth', 'grace', 'signalTo', 'attribute', 'log', 'url', 'readyUrl', 'concurrency', 'method', 'maxLost'] as const) watch.addOption(optionFor(name, 'watch'));
  // Hidden: a trace of every /proc reading, for the recorded-view tests (src/proc/recorded.ts).
  watch.addOption(new Option('--record-trace <file>', 'write every /proc reading to this NDJSON trace').hideHelp());
  addReportOptions(watch).action(async (command: string[], options: WatchOptions & OutputOptions) => {
    checkSettleWindows(options);
    await withHooks(async (hooks, interruption) => {
      const doc = await report(options, ['watch'], async () =>
        (await load.watch()).watchCommand(command, options, { ...hooks, onSample: (sample) => hooks.onSample?.(sample, { pattern: 'watch', reloads: options.reloads }) }),
      );
      setExit(exitForDocument(doc, interruption));
    });
  });

  const drain = program
    .command('drain')
    .description('start any HTTP server, load it on --url (loopback only), send --signal, and fail when the shutdown loses a request (exit 1; 4 when it cannot tell)')
    .argument('[command...]', 'the server and its arguments, after --')
    .passThroughOptions();
  for (const name of ['url', 'readyUrl', 'signal', 'signalTo', 'method', 'lag', 'grace', 'requests', 'concurrency', 'seed', 'readyTimeout'] as const) drain.addOption(optionFor(name, 'drain'));
  addReportOptions(drain).action(async (command: string[], options: DrainOptions & OutputOptions) => {
    await withHooks(async (hooks, interruption) => {
      const doc = await report(options, ['drain'], async () => (await load.drain()).drainCommand(command, options, hooks));
      setExit(exitForDocument(doc, interruption));
    });
  });

  addReportOptions(
    program
      .command('report')
      .description('read a saved run document (--out, --json) and write any of the views again; exits like the run did (0 / 1 / 4)')
      .argument('<file>', 'run document written by repro --out or --json (- for stdin)'),
  )
    .addOption(new Option(OPTIONS.maxGrowth.flag, 'judge the saved runs again with this gate for runs that should stay flat (fd/reload)').argParser(OPTIONS.maxGrowth.parse))
    .action(async (file: string, options: OutputOptions & { maxGrowth?: number }) => {
    const saved = (await load.loadDocument()).loadDocument(file, 'repro report');
    const doc = await report(options, runsOf(saved).map((r) => r.role), async () => (await import('../kinds/index.js')).rejudgeDocument(saved, options.maxGrowth === undefined ? {} : { maxGrowth: options.maxGrowth }));
    setExit(exitForDocument(doc));
  });

  program
    .command('probe')
    .description("show a process's open fds by kind, its fd limit and headroom; --watch samples until Ctrl-C")
    .argument('<pid>', 'process id', wholeNumber('<pid>', 1, 2 ** 22))
    .option('--json', 'print the snapshot as JSON')
    .addOption(new Option('--watch [ms]', 'sample every ms (default 1000) with a live chart until Ctrl-C or the process ends').argParser(wholeNumber('--watch', 10, 3_600_000)))
    .option('--no-chart', 'with --watch: no live chart, one line per sample')
    .action(async (pid: number, options: { json?: boolean; watch?: number | true; chart: boolean }) => {
      if (options.watch === undefined) {
        const snapshot = await (await load.probe()).probeOnce(pid, await workingProbe());
        process.stdout.write(options.json ? `${JSON.stringify(snapshot, null, 2)}\n` : `${(await load.summary()).formatProbe(snapshot, view({ chart: false }))}\n`);
        return;
      }
      const interval = options.watch === true ? 1000 : options.watch;
      const result = await (await load.probeWatch()).probeWatch(pid, interval, { color: useColor(), width: terminalWidth(), chart: options.chart, json: Boolean(options.json) });
      setExit(result);
    });
  addMonitorCommands(program, setExit);
  addExamples(program);
  return program;
}

/** Runs the CLI; resolves to the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
  guardStdout();
  let code: number = ExitCode.OK;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its one line already (or the help / version).
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    return reportFailure(error);
  }
}
