/**
 * The repro program: declares commands and options, runs a command function,
 * prints views of the document it returns, and maps every failure to one
 * line and an exit code in one place.
 */
import { Command, CommanderError, Option } from 'commander';
import type { CompareDocument, RunDocument } from '../model/run-document.js';
import { CHANNEL_KINDS } from '../native/channel.js';
import { Progress } from '../report/progress.js';
import { formatCompare, formatRun, type ViewOptions } from '../report/summary.js';
import { checkOutputPath, writeOutput } from '../report/write-file.js';
import { type CommandHooks, runCompare, runPattern, type ScenarioOptions } from './commands/scenario.js';
import { Interruption, ownHardFdLimit, terminalWidth, useColor } from './context.js';
import { ExitCode, ReproError } from './errors.js';
import { decimal, oneOf, wholeNumber } from './parse.js';

interface OutputOptions {
  json?: boolean;
  out?: string;
  chart: boolean;
}

function addScenarioOptions(command: Command, reloadsDefault: number): Command {
  return command
    .addOption(new Option('--scenario <name>', 'which scenario').default('sighup-listener'))
    .addOption(new Option('--channel <kind>', `native wake-up channel: ${CHANNEL_KINDS.join(' or ')}`).default('pipe').argParser(oneOf('--channel', CHANNEL_KINDS)))
    .addOption(new Option('--ulimit <n>', 'RLIMIT_NOFILE (soft and hard) for the child').default(64).argParser(wholeNumber('--ulimit', 8, 1_048_576)))
    .addOption(new Option('--reloads <n>', 'reload signals to send at most').default(reloadsDefault).argParser(wholeNumber('--reloads', 1, 10_000_000)))
    .addOption(new Option('--ack-timeout <ms>', 'wait this long for each reload to be acknowledged').default(2000).argParser(wholeNumber('--ack-timeout', 1, 600_000)))
    .addOption(new Option('--ready-timeout <ms>', 'wait this long for the child to say ready').default(10_000).argParser(wholeNumber('--ready-timeout', 1, 600_000)))
    .addOption(new Option('--dead-check <ms>', 'after EMFILE, wait this long for one more reload before calling signal handling dead').default(300).argParser(wholeNumber('--dead-check', 1, 600_000)))
    .addOption(new Option('--grace <ms>', 'after SIGTERM, wait this long before SIGKILL').default(2000).argParser(wholeNumber('--grace', 0, 600_000)))
    .addOption(new Option('--max-growth <fds>', 'largest fd growth per reload that still counts as flat').default(0.01).argParser(decimal('--max-growth', 0, 1000)))
    .option('--json', 'print the run document as JSON instead of the summary')
    .option('--out <file>', 'also write the run document as JSON to FILE (atomically; - for stdout)')
    .option('--no-chart', 'leave the terminal chart out of the summary');
}

function view(options: OutputOptions): ViewOptions {
  return { color: useColor(), width: terminalWidth(), chart: options.chart };
}

function emit(document: RunDocument | CompareDocument, text: () => string, options: OutputOptions): void {
  const json = `${JSON.stringify(document, null, 2)}\n`;
  // Both happen whatever the other does: nothing collected is lost to one failing output.
  let failed: unknown;
  if (options.out) {
    try {
      writeOutput(options.out, json, '--out');
    } catch (error) {
      failed = error;
    }
  }
  process.stdout.write(options.json ? json : `${text()}\n`);
  if (failed) throw failed;
}

async function withHooks<T>(action: (hooks: CommandHooks, interruption: Interruption) => Promise<T>): Promise<T> {
  const interruption = new Interruption();
  const progress = new Progress(process.stderr);
  try {
    return await action(
      {
        abort: interruption.controller.signal,
        hardLimit: ownHardFdLimit(),
        onChild: (child) => interruption.track(child),
        onSample: (sample, plan) => progress.update(plan.pattern, sample, plan.reloads),
      },
      interruption,
    );
  } finally {
    progress.clear();
    interruption.dispose();
  }
}

function exitFor(pass: boolean, interruption: Interruption): number {
  if (interruption.signal) return interruption.signal === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
  return pass ? ExitCode.OK : ExitCode.VERDICT_FAILED;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('repro')
    .description('Reproduce, measure and gate fd leaks from per-reload signal listeners')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride();

  for (const pattern of ['broken', 'correct'] as const) {
    const what =
      pattern === 'broken'
        ? 'run the broken child: a new listener + native channel per SIGHUP, never closed, until EMFILE'
        : 'run the correct child: one process-wide signal hub, fds flat over every reload';
    addScenarioOptions(program.command(pattern).description(what), 500).action(async (options: ScenarioOptions & OutputOptions) => {
      await withHooks(async (hooks, interruption) => {
        if (options.out) checkOutputPath(options.out, '--out');
        const run = await runPattern(pattern, options, hooks);
        emit(run, () => formatRun(run, view(options)), options);
        setExit(exitFor(run.verdict.pass, interruption));
      });
    });
  }

  addScenarioOptions(program.command('compare').description('run both side by side; exit 0 only when broken leaks to EMFILE and correct stays flat'), 500).action(
    async (options: ScenarioOptions & OutputOptions) => {
      await withHooks(async (hooks, interruption) => {
        if (options.out) checkOutputPath(options.out, '--out');
        const doc = await runCompare(options, hooks);
        emit(doc, () => formatCompare(doc, view(options)), options);
        setExit(exitFor(doc.verdict.pass, interruption));
      });
    },
  );
  return program;
}

/** Runs the CLI; resolves to the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
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
    if (error instanceof ReproError) {
      process.stderr.write(`repro: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`repro: internal error: ${message}${process.env.REPRO_DEBUG ? `\n${(error as Error).stack}` : ' (REPRO_DEBUG=1 shows the stack)'}\n`);
    return 70;
  }
}
