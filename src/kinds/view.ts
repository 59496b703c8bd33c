/**
 * What a kind tells the views: every section a view shows that differs by
 * kind (title, label, rows, sentences, JUnit names, which picture is drawn),
 * so the views (src/report) ask the run's kind instead of testing its fields.
 * Each kind's entry in src/kinds/index.ts carries one. Pure.
 */
import type { DrainRecord } from '../model/drain.js';
import type { BaselineMeasure } from '../model/baseline.js';
import type { RunDocument } from '../model/run-document.js';

/** One row of a compare's side-by-side table: its label and each run's value. */
export type CompareRow = [string, (r: RunDocument) => string];

/** Whose fds an --attribute section attributes, in the words every view uses. */
export interface AttributionWords {
  /** The section's title: `where the survivors came from`, `where the leaked fds of broken came from`. */
  title: string;
  /** What was attributed, after the counts: `surviving fds`, `leaked fds (…)`. */
  what: string;
  /** No fd leaked is said in one line (a scenario run), rather than as `0 of 0 … attributed`. */
  noneInOneLine: boolean;
}

export interface KindView {
  /** The run's one-line title, a command in it cut visibly at `commandWidth` characters. */
  title(run: RunDocument, commandWidth: number): string;
  /** What the run is called in charts and tables. */
  label(run: RunDocument): string;
  /** The summary rows of one run: label → value. */
  rows(run: RunDocument): [string, string][];
  /** A compare's rows when this kind has its own table for all of `runs`; undefined: the table of fds over reloads. */
  compareRows(runs: readonly RunDocument[]): CompareRow[] | undefined;
  /** What the run is expected to show, in the headline's words (a watched program names its gate). */
  expectation(run: RunDocument): string;
  /** What a run that passed showed in a few words, when the kind says it (`correct loses none of 800`); undefined: its role says it. */
  inOneBreath(run: RunDocument): string | undefined;
  /** One line on what the run measured, which a failure message names (growth and EMFILE, or requests lost). */
  failureSentence(run: RunDocument): string;
  /** The request ledger the run shows (its ledger sections, and the requests picture instead of fds over reloads); undefined for none. */
  requests(run: RunDocument): DrainRecord | undefined;
  /** The headings over what the run printed (the terminal summary). */
  streamHeadings(run: RunDocument): { stderr: string; stdout: string };
  /** The words of its --attribute section. */
  attribution(run: RunDocument): AttributionWords;
  /** Its JUnit test case's classname. */
  junitClass(run: RunDocument): string;
  /** The JUnit suite name of a document that is this one run. */
  suiteName(run: RunDocument): string;
  /** A failure of its own in JUnit (message and type) when the run failed; undefined: the failure of fds over reloads. */
  junitFailure(run: RunDocument): { message: string; type: string } | undefined;
  /** What `--baseline` compares: the measure its verdict gates on, and its value. */
  baselineMeasure(run: RunDocument): { measure: BaselineMeasure; value: number };
}
