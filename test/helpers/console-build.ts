// Builds the console with its real build script into a fresh folder, for tests that serve it (--ui-dir).

import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const script = new URL("../../pkg/console/scripts/build.mjs", import.meta.url).pathname;

/** Runs `node pkg/console/scripts/build.mjs --out <tmp>` and resolves with the folder. */
export async function buildConsole(): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), "switchboard-console-")), "dist");
  await promisify(execFile)(process.execPath, [script, "--out", out]);
  return out;
}
