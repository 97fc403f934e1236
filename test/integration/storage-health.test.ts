// A real disk-full episode (a file size limit set with `ulimit -f` on a child server): /readyz recovers by itself.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterEach, expect, it } from "vitest";
import { metricValue } from "../helpers/server.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";

let child: ChildProcess | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  await dir?.cleanup();
});

async function startLimited(dataDir: string, fileBlocks: number): Promise<{ child: ChildProcess; url: string }> {
  // Node ignores SIGXFSZ, so a write past the limit fails with EFBIG, as ENOSPC would on a full disk.
  const c = spawn(
    "bash",
    [
      "-c",
      `ulimit -S -f ${fileBlocks} && exec "$0" --import tsx test/helpers/child-server.ts "$1"`,
      process.execPath,
      dataDir,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  child = c;
  const lines = createInterface({ input: c.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    c.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return { child: c, url };
}

const put = (url: string, name: string, value: unknown) =>
  fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify({ name, value }) });

it("after writes fail for lack of space, /readyz turns 200 again with no client write once space is back", async () => {
  dir = await makeTempDir("switchboard-health-");
  const { child: c, url } = await startLimited(dir.path, 256);
  expect((await fetch(`${url}/readyz`)).status).toBe(200);
  const value = "x".repeat(16 * 1024);
  let acked = -1;
  let failed: Response | undefined;
  for (let i = 0; i < 40 && failed === undefined; i++) {
    const r = await put(url, `fill/${i}`, value);
    if (r.status === 200) acked = i;
    else failed = r;
  }
  expect(failed?.status).toBe(503);
  expect(((await failed!.json()) as { error: { code: string } }).error.code).toBe("STORAGE_UNAVAILABLE");
  expect(acked).toBeGreaterThan(5);
  expect((await fetch(`${url}/readyz`)).status).toBe(503);
  expect(await metricValue(url, "switchboard_storage_errors_total", { op: "append", code: "EFBIG" })).toBeGreaterThan(
    0,
  );

  // Space comes back; nobody writes. The probe notices.
  execFileSync("prlimit", ["--pid", String(c.pid), "--fsize=unlimited:unlimited"]);
  let ready = 503;
  for (let i = 0; i < 200 && ready !== 200; i++) {
    ready = (await fetch(`${url}/readyz`)).status;
    if (ready !== 200) await new Promise((r) => setTimeout(r, 50));
  }
  expect(ready).toBe(200);
  expect((await put(url, "after", 1)).status).toBe(200);
  const last = await fetch(`${url}/consumer?name=fill/${acked}`);
  expect(((await last.json()) as { registers: Array<{ found: boolean }> }).registers[0]?.found).toBe(true);
}, 20_000);
