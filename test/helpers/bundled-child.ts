// Bundles test/helpers/child-server.ts once per test file with esbuild, so tests that restart a server many times
// (crash loops) start plain `node` on one file in ~0.2 s instead of compiling TypeScript on every start.

import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Path of the bundled child server; dependencies stay in node_modules (resolved from the bundle's place). */
export async function bundleChildServer(): Promise<string> {
  // Inside the repository so that `hono`, `pino` … resolve from its node_modules; one file per worker process.
  const dir = join(ROOT, "node_modules", ".cache", "switchboard-tests");
  await mkdir(dir, { recursive: true });
  const outfile = join(dir, `child-server-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, "test/helpers/child-server.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "silent",
  });
  return outfile;
}
