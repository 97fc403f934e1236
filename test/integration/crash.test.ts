// A server SIGKILLed in the middle of concurrent writes loses no acknowledged write, and ids keep increasing.

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

const put = (url: string, body: unknown) =>
  fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify(body) }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as any,
  }));

describe.each([
  ["file", () => ({}) as Record<string, string>],
  [
    "mongo",
    () => ({ SWITCHBOARD_MONGO_URL: mongo.url, SWITCHBOARD_MONGO_DATABASE: `crash_${process.pid}_${Date.now()}` }),
  ],
] as const)("%s store", (store, makeEnv) => {
  it("keeps every acknowledged write across a SIGKILL mid-traffic", async () => {
    dir = await makeTempDir("switchboard-crash-");
    const env: Record<string, string> = makeEnv();
    const first = await startChild(dir.path, env);
    const ready = (await (await fetch(`${first.url}/readyz`)).json()) as { storage: string };
    expect(ready.storage).toBe(store);
    const WORKERS = 16;
    const acked = new Map<string, number>(); // register -> last acknowledged value
    const inFlight = new Map<string, number>(); // register -> value possibly written but not acknowledged
    let maxIndex = 0;
    let maxRequestId = 0;
    let killed = false;
    await put(first.url, { registers: Array.from({ length: WORKERS }, (_, w) => ({ name: `crash/${w}`, value: -1 })) });

    const worker = async (w: number) => {
      const name = `crash/${w}`;
      for (let i = 0; !killed; i++) {
        inFlight.set(name, i);
        try {
          const r = await put(first.url, { name, value: i, metadata: { worker: w } });
          if (r.status === 200) {
            acked.set(name, i);
            maxIndex = Math.max(maxIndex, r.body.index);
          }
          if (i % 5 === 0) {
            const q = await fetch(`${first.url}/consumer`, { method: "PUT", body: JSON.stringify({ name, value: i }) });
            if (q.status === 202) {
              const body = (await q.json()) as any;
              maxRequestId = Math.max(maxRequestId, body.requests[0].id);
              maxIndex = Math.max(maxIndex, body.index);
            }
          }
        } catch {
          return; // the server died under us: this write was never acknowledged
        }
      }
    };
    const running = Array.from({ length: WORKERS }, (_, w) => worker(w));
    // Let a few hundred writes land, then kill without warning.
    while ([...acked.values()].reduce((a, b) => a + b + 1, 0) < 400) await new Promise((r) => setTimeout(r, 5));
    const exited = new Promise((r) => first.child.once("exit", r));
    first.child.kill("SIGKILL");
    killed = true;
    await Promise.all(running);
    await exited;

    const second = await startChild(dir.path, env);
    const state = (await (
      await fetch(`${second.url}/consumer?${Array.from({ length: WORKERS }, (_, w) => `name=crash/${w}`).join("&")}`)
    ).json()) as any;
    expect(state.index).toBeGreaterThanOrEqual(maxIndex);
    for (const r of state.registers) {
      const last = acked.get(r.name) ?? -1;
      // Either the last acknowledged value, or the one write in flight at the kill (which may have become durable).
      expect([last, inFlight.get(r.name)]).toContain(r.value);
    }
    const after = await put(second.url, { name: "crash/0", value: "after" });
    expect(after.body.index).toBeGreaterThan(state.index);
    const q = (await (
      await fetch(`${second.url}/consumer`, { method: "PUT", body: JSON.stringify({ name: "crash/0", value: "x" }) })
    ).json()) as any;
    expect(q.requests[0].id).toBeGreaterThan(maxRequestId);
  }, 60_000);
});
