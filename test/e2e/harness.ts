// What the console's browser tests share: Chromium's flags, where screenshots go, REST writes, servers in child processes.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { expect } from "vitest";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];

/** Screenshots go to .tmp/ as artifacts; SWITCHBOARD_SCREENSHOTS=docs refreshes the ones docs/console.md shows. */
export const SCREENSHOTS =
  process.env.SWITCHBOARD_SCREENSHOTS === "docs"
    ? new URL("../../docs/images/", import.meta.url).pathname
    : new URL("../../.tmp/console-screenshots/", import.meta.url).pathname;

/** PUT /provider, expecting success. */
export async function put(url: string, body: unknown): Promise<{ index: number }> {
  const res = await fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as { index: number };
}

/**
 * Servers in their own processes (test/e2e/console-server.ts), so that they do not share the test
 * worker's event loop with the browser driver, and can be killed with SIGKILL.
 */
export function childServers(uiDir: () => string) {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  return {
    async dataDir(): Promise<string> {
      const d = await mkdtemp(join(tmpdir(), "switchboard-e2e-"));
      dirs.push(d);
      return d;
    },
    async start(dataDir: string, port = 0): Promise<{ child: ChildProcess; url: string }> {
      const args = ["--import", "tsx", "test/e2e/console-server.ts", dataDir, String(port), uiDir()];
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
      children.push(child);
      const url = await new Promise<string>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
        createInterface({ input: child.stdout! }).once("line", (l) => resolve((JSON.parse(l) as { url: string }).url));
      });
      return { child, url };
    },
    async cleanup(): Promise<void> {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}
