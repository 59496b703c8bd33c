/** Exit codes, documented in docs/reference.md (and in short in the README); one class per kind of failure, handled in one place (main.ts). */
export const ExitCode = {
  /** The run showed what it should (or the gate passed). */
  OK: 0,
  /** The verdict failed: growth, missing EMFILE, a child that crashed or hung. */
  VERDICT_FAILED: 1,
  /** Bad flag or value: the message names it and the fix. */
  USAGE: 2,
  /** The machine cannot do it: no procfs and no lsof, a child that cannot start, an unwritable output. */
  ENVIRONMENT: 3,
  /** watch: the program did not take the reloads (died on the signal, ignores it, exited early, never settled). */
  INCONCLUSIVE: 4,
  /** Interrupted by SIGINT (128 + 2). */
  INTERRUPTED: 130,
  /** Terminated by SIGTERM (128 + 15). */
  TERMINATED: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a one-line message and a given exit code. */
export class ReproError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReproError';
  }
}

export class UsageError extends ReproError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.USAGE, options);
    this.name = 'UsageError';
  }
}

export class EnvironmentError extends ReproError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.ENVIRONMENT, options);
    this.name = 'EnvironmentError';
  }
}
