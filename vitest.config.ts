import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that run a minute or more, started first. On a clean clone (CI) vitest has no durations cached and
 * starts larger files first, so the 100 000-reload run (a small file) started last and ran alone for its
 * last ~50 s while the other worker sat idle (a loaded full run: 118 s alone at the end).
 */
const SLOW_FIRST = [
  'test/cli/long-run.test.ts',
  'test/scenarios/runtime-teardown.test.ts',
  'test/attribution/runtime-frames.test.ts',
  'test/cli/watch-tree.test.ts',
  'test/attribution/watch-attribute.test.ts',
  'test/cli/watch-signals.test.ts',
  'test/scenarios/sighup-listener-compare.test.ts',
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const at = SLOW_FIRST.findIndex((path) => spec.moduleId.endsWith(path));
      return at < 0 ? SLOW_FIRST.length : at;
    };
    return sorted.map((spec, order) => ({ spec, order })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.order - b.order).map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/no-leftovers.ts'],
    setupFiles: ['test/support/no-leaks-per-file.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real children and real signals: two cores, so two files at a time keeps timings sane.
    maxWorkers: 2,
    sequence: { sequencer: SlowFirst },
  },
});
