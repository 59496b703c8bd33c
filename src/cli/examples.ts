/**
 * Two or three examples at the end of each command's --help: the commands a
 * newcomer would type first, each one that runs as written on a machine with
 * the programs it names.
 */
import type { Command } from 'commander';

const EXAMPLES: Record<string, readonly (readonly [string, string])[]> = {
  broken: [
    ['npx repro broken', 'the leaking Node child: fds grow per SIGHUP until EMFILE'],
    ['npx repro broken --scenario log-reopen --runtime python', 'another bug: a log reopened per SIGHUP, never closed'],
  ],
  correct: [
    ['npx repro correct', 'one process-wide hub: fds stay flat'],
    ['npx repro correct --runtime rust', 'the Tokio version (needs cargo and Debian’s crates)'],
  ],
  compare: [
    ['npx repro compare', 'broken and correct side by side; exit 0 when each does what it should'],
    ['npx repro compare --scenario graceful-drain', 'requests lost at shutdown, broken against correct'],
    ['npx repro compare --out run.json', 'save the run; `repro report run.json --html run.html` renders it later'],
  ],
  list: [
    ['npx repro list', 'every scenario, its roles and the runtimes that run here'],
    ['npx repro list --json', 'the same as JSON'],
  ],
  watch: [
    ['npx repro watch -- ./my-daemon --config dev.conf', 'start it, send 20 SIGHUPs, fail when fds survive per reload'],
    ['npx repro watch --pid 4242 --signal USR1', 'a process already running, reloaded on SIGUSR1 (it stays running)'],
    ['npx repro watch --log /tmp/app.log -- ./my-daemon', 'also fail when its log says EMFILE (Too many open files)'],
  ],
  drain: [
    ['npx repro drain --url http://127.0.0.1:8000/ -- python3 -m http.server 8000', 'SIGTERM under load: was a request lost?'],
    ['npx repro drain --signal QUIT --url http://127.0.0.1:8080/ -- ./my-server', 'a server whose graceful stop is SIGQUIT (as nginx’s)'],
  ],
  report: [
    ['npx repro report run.json', 'the summary of a saved run, judged again'],
    ['npx repro report run.json --junit junit.xml --markdown -', 'CI views of the same run'],
  ],
  monitor: [
    ['npx repro monitor --match nginx --listen 127.0.0.1:9464', 'serve fd health of every nginx process to Prometheus'],
    ['npx repro monitor --pid 4242 --textfile /var/lib/node_exporter/repro.prom', "a .prom file for node_exporter's textfile collector"],
  ],
  rules: [
    ['npx repro rules > repro-rules.yml', 'alerting rules for the metrics: load them with rule_files:'],
    ['npx repro rules --hours 2 --for 5m', 'warn when EMFILE is 2 h away, after 5 minutes of it'],
  ],
  probe: [
    ['npx repro probe 4242', 'open fds by kind, the limit and the headroom'],
    ['npx repro probe 4242 --watch 500', 'sample every 500 ms with a live chart until Ctrl-C'],
  ],
};

/** The commands whose summaries use repro's own words (floor, settle, survivors, completion, lag window). */
const SHOWS_JARGON = new Set(['broken', 'correct', 'compare', 'watch', 'drain', 'report']);

/** Where those words are explained: the glossary ships in the package and the checkout alike. */
export const GLOSSARY_POINTER = 'Words in the summary (floor, settle, survivors, completion, lag window):\n  docs/glossary.md';

/** Adds an "Examples:" block after the options of every command that has examples. */
export function addExamples(program: Command): void {
  for (const command of program.commands) {
    const examples = EXAMPLES[command.name()];
    if (!examples) continue;
    // The command on its own line, what it does under it: both fit 80 columns, and the command can be copied whole.
    const words = SHOWS_JARGON.has(command.name()) ? `\n\n${GLOSSARY_POINTER}` : '';
    command.addHelpText('after', `\nExamples:\n${examples.map(([line, what]) => `  $ ${line}\n      ${what}`).join('\n')}${words}`);
  }
}
