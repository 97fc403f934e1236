// Request outcomes and delivery marks survive a restart (SIGTERM and SIGKILL, file and mongo stores).

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MongoTestServer, startMongoServer } from "../helpers/mongo-server.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";

const children: ChildProcess[] = [];
let dir: TempDir | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  await dir?.cleanup();
});

let mongo: MongoTestServer;
beforeAll(async () => {
  mongo = await startMongoServer();
});
afterAll(async () => {
  await mongo.stop();
});

async function startChild(dataDir: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/child-server.ts", dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return { child, url };
}

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function stop(child: ChildProcess, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await exited;
}

describe.each([
  ["file", () => ({}) as Record<string, string>],
  [
    "mongo",
    () => ({ SWITCHBOARD_MONGO_URL: mongo.url, SWITCHBOARD_MONGO_DATABASE: `outcomes_${process.pid}_${Date.now()}` }),
  ],
] as const)("%s store", (_store, makeEnv) => {
  it.each(["SIGTERM", "SIGKILL"] as const)("outcomes and delivery marks survive a %s restart", async (signal) => {
    dir = await makeTempDir("switchboard-outcomes-");
    const env: Record<string, string> = makeEnv();
    const first = await startChild(dir.path, env);
    let url = first.url;
    await call(url, "PUT", "/provider", { name: "dev/heater", value: "off" });
    const asked = await call(url, "PUT", "/consumer", {
      requests: [
        { name: "dev/heater", value: "on", requestKey: "app-1" },
        // Delivered below and never answered: once delivered it must not expire, also after the restart.
        { name: "dev/heater", value: "eco", expiresIn: "1s" },
      ],
    });
    expect(asked.status).toBe(202);
    const [r1, r2] = asked.body.requests.map((r: { id: number }) => r.id);
    const polled = await call(url, "GET", "/provider?name=dev/heater&wait=0");
    expect(polled.body.requests.map((r: { id: number }) => r.id)).toEqual([r1, r2]);
    const r3 = (await call(url, "PUT", "/consumer", { name: "dev/heater", value: "boost" })).body.requests[0].id;
    const acked = await call(url, "PUT", "/provider/acks", {
      acks: [{ id: r1, status: "rejected", message: "window open", result: { temp: 17.5 } }],
    });
    expect(acked.body.acks[0]).toMatchObject({ id: r1, status: "rejected" });
    const before = (await call(url, "GET", `/consumer/requests/${r1}`)).body;

    await stop(first.child, signal);
    url = (await startChild(dir.path, env)).url;

    const after = await call(url, "GET", `/consumer/requests/${r1}`);
    expect(after.status).toBe(200);
    expect(after.body).toStrictEqual(before);
    expect(after.body).toMatchObject({ status: "rejected", message: "window open", result: { temp: 17.5 } });
    // The idempotency key still names the first request.
    const retried = await call(url, "PUT", "/consumer", { name: "dev/heater", value: "on", requestKey: "app-1" });
    expect(retried.body.requests[0].id).toBe(r1);
    expect((await call(url, "GET", `/consumer/requests/${r3}`)).body.status).toBe("pending");
    // Held for 2.5 s, well past r2's 1 s expiresIn and the 1 s sweep: a delivered request is not expired.
    const delivered = await call(url, "GET", `/consumer/requests/${r2}?wait=2500ms`);
    expect(delivered.body.status).toBe("delivered");
    // Two child starts under tsx: slow on a loaded machine.
  }, 120_000);
});
