import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "pkg/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "test/bench/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Child processes (CLI, crash tests) run dist/, built once here.
    globalSetup: ["test/global-build.ts"],
    // graphql-http and graphql-sse must load the same graphql build as src/ (one realm for instanceof).
    server: { deps: { inline: ["graphql-http", "graphql-sse"] } },
    // In CI a JSON report is written too, so .ci/run can print a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    ...(process.env.CI ? { outputFile: { json: ".tmp/vitest-results.json" } } : {}),
  },
});
