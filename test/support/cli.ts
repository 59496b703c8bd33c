/** Runs the built CLI as a user would: a real process, real exit code, real output. */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const BIN = fileURLToPath(new URL('../../bin/repro.js', import.meta.url));

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export async function repro(args: string[], options: { env?: Record<string, string>; timeout?: number; cwd?: string } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    cwd: options.cwd,
    timeout: options.timeout ?? 60_000,
    // No job summary from the suite's own runs, also when the suite itself runs in GitHub Actions.
    env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', ...options.env },
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** `repro COMMAND --json ARGS`: the result, and the run document when stdout holds one (a usage error prints none). */
export async function reproJson<D>(args: string[], options: { timeout?: number } = {}): Promise<CliResult & { run: D | undefined }> {
  const [command = '', ...rest] = args;
  const result = await repro([command, '--json', ...rest], { timeout: options.timeout ?? 60_000 });
  let run: D | undefined;
  try {
    run = JSON.parse(result.stdout) as D;
  } catch {
    run = undefined;
  }
  return { ...result, run };
}
