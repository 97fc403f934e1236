import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Timing-sensitive suites that start many processes of their own (three-node clusters on JetStream, the
// console's 10,000-row browser check) run after the rest, one file at a time, so that they do not
// compete with the parallel suites for the CPU.
const SERIAL = ["test/integration/cluster*.test.ts", "test/e2e/console.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // At least two test files at once: vitest's default (one fewer than the cores) runs them one by one on a
    // 2-core machine, and the suite then spends most of its time waiting on servers that sleep or hold polls.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Child processes (CLI, crash tests) run dist/, built once here.
    globalSetup: ["test/global-build.ts"],
    // graphql-http and graphql-sse must load the same graphql build as src/ (one realm for instanceof).
    server: { deps: { inline: ["graphql-http", "graphql-sse"] } },
    // In CI a JSON report is written too, so .ci/run can print a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    ...(process.env.CI ? { outputFile: { json: ".tmp/vitest-results.json" } } : {}),
    projects: [
      {
        extends: true,
        test: {
          name: "parallel",
          include: ["test/**/*.test.ts", "pkg/*/test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "test/bench/**", ...SERIAL],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "serial",
          include: SERIAL,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
