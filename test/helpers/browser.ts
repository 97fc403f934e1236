// For browser tests: where Chromium is (CHROMIUM_PATH or the usual places), and a fresh build of the client's dist.

import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const USUAL = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/** CHROMIUM_PATH when set (it must exist), else the first of the usual install paths that exists. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.CHROMIUM_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist`);
    return given;
  }
  const found = USUAL.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found: set CHROMIUM_PATH (looked in ${USUAL.join(", ")})`);
  return found;
}

const CLIENT = fileURLToPath(new URL("../../pkg/client/", import.meta.url));

/**
 * pkg/client/dist/index.js, built from src with the package's own build when any source file is newer
 * than it (`npm install` builds it through `prepare`), so a test exercises what would be published.
 */
export async function buildClientDist(): Promise<string> {
  const entry = `${CLIENT}dist/index.js`;
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  const newest = Math.max(...readdirSync(`${CLIENT}src`).map((f) => statSync(`${CLIENT}src/${f}`).mtimeMs));
  if (newest > built) {
    const tsc = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));
    await promisify(execFile)(process.execPath, [tsc, "-p", `${CLIENT}tsconfig.json`], { cwd: CLIENT });
  }
  return entry;
}
