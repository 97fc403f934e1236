// `npm start` as an operator runs it: SIGTERM to npm stops the server gracefully, and after SIGKILL of the whole
// process group a restart on the same data directory succeeds at once (the lock sees the dead owner).

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, expect, it } from "vitest";
import { envName } from "../../src/config.js";
import { startTestServer, TEST_PROTOCOL_DEFAULTS } from "../helpers/server.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";

let npm: ChildProcess | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  if (npm?.pid !== undefined && npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid, "SIGKILL");
  await dir?.cleanup();
});

/** `npm start` in its own process group (as a shell would run it); resolves with the URL and the log lines. */
async function npmStart(dataDir: string): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  // Every dialect that listens by default takes an ephemeral port, so parallel test files never collide.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(TEST_PROTOCOL_DEFAULTS)) env[envName(key)] = String(value);
  const child = spawn("npm", ["start", "--", "--port", "0", "--data-dir", dataDir, "--log-level", "info"], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
    env,
  });
  npm = child;
  const log: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}: ${log.join("\n")}`)));
    lines.on("line", (line) => {
      log.push(line);
      if (line.includes('"switchboard listening"')) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return { child, url, log };
}

async function deadOrZombie(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/stat`, "utf8")).includes(") Z ");
  } catch {
    return true;
  }
}

const put = (url: string, value: number) =>
  fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify({ name: "npm/x", value }) });

it("SIGTERM to npm stops the server gracefully: it logs stopped, releases the lock and the port", async () => {
  dir = await makeTempDir("switchboard-npm-");
  const data = join(dir.path, "data");
  const { child, url, log } = await npmStart(data);
  expect((await put(url, 1)).status).toBe(200);
  const exited = once(child, "exit");
  process.kill(child.pid!, "SIGTERM");
  await exited;
  expect(log.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  expect(await readdir(data)).not.toContain("switchboard.lock");
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
}, 30_000);

it("after SIGKILL of the process group, a restart on the same data directory succeeds at once", async () => {
  dir = await makeTempDir("switchboard-npm-");
  const data = join(dir.path, "data");
  const { child, url } = await npmStart(data);
  expect((await put(url, 7)).status).toBe(200);
  const server = Number((await readFile(join(data, "switchboard.lock"), "utf8")).split(/\s/)[0]);
  const exited = once(child, "exit");
  process.kill(-child.pid!, "SIGKILL");
  await exited;
  // The kernel has finished killing the server once it is a zombie (its parent npm is gone too, so nobody may
  // reap it for a while) or gone: from then on the restart must not wait for anything.
  for (let i = 0; i < 200 && !(await deadOrZombie(server)); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await deadOrZombie(server)).toBe(true);
  const again = await startTestServer({ dataDir: data });
  try {
    const r = await fetch(`${again.url}/consumer?name=npm/x`);
    expect(((await r.json()) as { registers: Array<{ value: unknown }> }).registers[0]?.value).toBe(7);
  } finally {
    await again.stop();
  }
}, 30_000);

it("the binary runs the server itself, with the young generation flag: SIGKILL of that pid leaves no server behind", async () => {
  dir = await makeTempDir("switchboard-bin-");
  const cli = join(process.cwd(), "dist/cli.js");
  // What the kernel runs for `switchboard serve`: the interpreter line of the binary, then the script.
  const shebang = (await readFile(cli, "utf8")).split("\n")[0]!;
  const [interpreter, ...interpreterArgs] = shebang.slice(2).split(" ");
  expect(interpreterArgs.join(" ")).toBe("-S node --max-semi-space-size=64");
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(TEST_PROTOCOL_DEFAULTS)) env[envName(key)] = String(value);
  const child = spawn(
    interpreter!,
    [
      interpreterArgs.join(" "),
      cli,
      "serve",
      "--port",
      "0",
      "--data-dir",
      join(dir.path, "data"),
      "--log-level",
      "info",
    ],
    { stdio: ["ignore", "pipe", "inherit"], env },
  );
  npm = child;
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`switchboard exited with ${code}`)));
    lines.on("line", (line) => {
      if (line.includes('"switchboard listening"')) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  // `env -S` execs node in place: the pid we hold is the server's, and it runs with the flag.
  const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, "utf8")).split("\0");
  expect(cmdline).toContain("--max-semi-space-size=64");
  expect(cmdline).toContain(cli);
  expect((await put(url, 1)).status).toBe(200);
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
  // No second process kept the port: the server died with the pid that was killed.
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
}, 30_000);
