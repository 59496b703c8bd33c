/** Whether to paint: a module of its own so the start-up fast path (fast-probe.ts, fast-list.ts) can ask without loading context.ts's probe and process plumbing. */
/** Colour: FORCE_COLOR wins, then NO_COLOR, then TERM=dumb (none), then whether stdout is a terminal. */
export function useColor(env: NodeJS.ProcessEnv = process.env, stream: { isTTY?: boolean } = process.stdout): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}
