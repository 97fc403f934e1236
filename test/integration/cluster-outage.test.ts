// A cluster member whose NATS server dies: /readyz turns 503, reads keep serving, writes are refused; all recover when NATS returns.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterEach, expect, it } from "vitest";
import { killNodes, put, startNode } from "../helpers/cluster-nodes.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Our own JetStream server on a loopback port, so the test may kill it. */
async function startNats(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`nats-server exited with ${code}`)));
    let text = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("Server is ready")) resolve();
    });
  });
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** Polls an outside condition (NATS's state is not ours to await) every 50 ms, at most `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

let nats: ChildProcess | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await killNodes();
  if (nats) await kill(nats);
  await dir?.cleanup();
});

it("NATS down: not ready, reads served, writes refused; NATS back: ready and writable again", async () => {
  dir = await makeTempDir("switchboard-nats-");
  const port = await freePort();
  nats = await startNats(port, dir.path);
  const node = await startNode("outage", "solo", {
    SWITCHBOARD_CLUSTER: `nats://127.0.0.1:${port}`,
    SWITCHBOARD_CLUSTER_LEASE_TTL: "1s",
  });
  await until(
    "the node became the writer",
    5000,
    async () => (await put(node, { name: "a", value: 1 })).status === 200,
  );
  const ready = async () => (await fetch(`${node.url}/readyz`)).status;
  expect(await ready()).toBe(200);

  await kill(nats);
  await until("/readyz turned 503", 5000, async () => (await ready()) === 503);
  const read = await fetch(`${node.url}/consumer?name=a`);
  expect(read.status).toBe(200);
  expect(((await read.json()) as { registers: { value: unknown }[] }).registers[0]!.value).toBe(1);
  const refused = await put(node, { name: "a", value: 2 });
  expect(refused.status).toBe(503);
  expect(["NO_WRITER", "NOT_WRITER", "STORAGE_UNAVAILABLE"]).toContain(refused.body.error?.code);

  nats = await startNats(port, dir.path);
  await until("/readyz turned 200", 8000, async () => (await ready()) === 200);
  await until("writes resumed", 8000, async () => (await put(node, { name: "a", value: 3 })).status === 200);
  const after = (await (await fetch(`${node.url}/consumer?name=a`)).json()) as { registers: { value: unknown }[] };
  expect(after.registers[0]!.value).toBe(3);
});
