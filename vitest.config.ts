import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/**
 * Three groups, one after the other. `parallel` judges nothing by the wall clock (pure functions,
 * in-memory fakes, the simulator in virtual time, reports built from files), so its files run on
 * every core. `serial` (real servers on 127.0.0.1, child processes, the browser, the built CLI)
 * judges timing against loop lags measured while it runs, and each file loads the machine itself,
 * so its files run one at a time. A new test file that starts a server or a process, or reads a
 * clock, belongs in `serial`. `fake-cloud` (between them) is below.
 */

/**
 * `orchestrate` processes against the fake `anyscale` CLI and plans that fail before they start:
 * mostly waiting on child processes (polls, deploys, Ctrl-C), judging nothing tighter than
 * seconds-wide limits, each file in its own temporary workspace with its own fake cloud. Two run
 * at once, after the parallel group and before the serial one: one at a time they were 5 of the
 * suite's 12 minutes.
 */
const FAKE_CLOUD_PROCESSES = [
  "test/e2e/run-anyscale.test.ts",
  "test/e2e/cloud-faults.test.ts",
  "test/e2e/anyscale-real-cli.test.ts",
  "test/integration/anyscale-target.test.ts",
  "test/e2e/dry-run.test.ts",
  "test/e2e/npx-hints.test.ts",
  "test/e2e/mistakes.test.ts",
  "test/e2e/readers-layouts.test.ts",
  "test/e2e/report-cli.test.ts",
];
const TIMING_FREE_INTEGRATION = [
  "test/integration/build-output.test.ts",
  "test/integration/report-build.test.ts",
  "test/integration/report-charts.test.ts",
  "test/integration/seed-data.test.ts",
  "test/integration/twin-seed.test.ts",
];
export default defineConfig({
  test: {
    // Forks, not threads: tests start servers and child processes and send them signals.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-output/vitest-report.json" },
    projects: [
      {
        extends: true,
        test: {
          name: "parallel",
          include: ["test/unit/**/*.test.ts", ...TIMING_FREE_INTEGRATION],
          maxWorkers: availableParallelism(),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "fake-cloud",
          include: FAKE_CLOUD_PROCESSES,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "serial",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...TIMING_FREE_INTEGRATION, ...FAKE_CLOUD_PROCESSES],
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
