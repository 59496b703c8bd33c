/** Why a probe could not read a process. */
export type ProbeFailure = 'gone' | 'permission' | 'unsupported';

export class ProbeError extends Error {
  constructor(
    readonly failure: ProbeFailure,
    readonly pid: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

/** Maps a read error on /proc/<pid>/… to a ProbeError; rethrows anything unexpected. */
export function toProbeError(pid: number, error: unknown): ProbeError {
  if (error instanceof ProbeError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') return new ProbeError('gone', pid, `process ${pid} is gone`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') {
    return new ProbeError('permission', pid, `permission denied reading the fds of process ${pid} (run as its user or root)`, { cause: error });
  }
  throw error;
}
