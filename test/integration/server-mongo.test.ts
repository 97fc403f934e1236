// The server on the mongo store: MongoDB stopped mid-traffic → coded 503s and not ready; recovery when it returns; nothing acknowledged lost.

import { afterAll, beforeAll, expect, it } from "vitest";
import { type MongoTestServer, startMongoServer } from "../helpers/mongo-server.js";
import { startTestServer } from "../helpers/server.js";

let mongo: MongoTestServer;
beforeAll(async () => {
  mongo = await startMongoServer();
});
afterAll(async () => {
  await mongo.stop();
});

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it("answers 503 STORAGE_UNAVAILABLE while MongoDB is down, recovers, and loses nothing acknowledged", async () => {
  const config = {
    mongoUrl: mongo.url,
    mongoDatabase: `outage_${process.pid}_${Date.now()}`,
    mongoWriteTimeout: "600ms",
  };
  const srv = await startTestServer({ config });
  const put = (name: string, value: unknown) =>
    fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name, value }) }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));
  const ready = () =>
    fetch(`${srv.url}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  try {
    expect((await ready()).body.storage).toBe("mongo");
    const acked = new Map<string, unknown>();
    for (let i = 0; i < 20; i++) {
      const r = await put(`m/${i % 5}`, i);
      expect(r.status).toBe(200);
      acked.set(`m/${i % 5}`, i);
    }

    await mongo.stop();
    const failed = await put("m/0", "during-outage");
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("STORAGE_UNAVAILABLE");
    const notReady = await until(ready, (r) => r.status === 503, "not ready");
    expect(notReady.body.error.code).toBe("STORAGE_UNAVAILABLE");
    // The failed write was not applied: consumers still see the acknowledged value.
    const during = (await (await fetch(`${srv.url}/consumer?name=m/0`)).json()) as any;
    expect(during.registers[0].value).toBe(acked.get("m/0"));

    await mongo.restart();
    await until(ready, (r) => r.status === 200, "ready again");
    const after = await put("m/0", "after-outage");
    expect(after.status).toBe(200);
    acked.set("m/0", "after-outage");
  } finally {
    await srv.dispose();
  }

  // A new server on the same database sees every acknowledged write and none of the failed one.
  const again = await startTestServer({ config });
  try {
    const names = [...Array(5).keys()].map((i) => `name=m/${i}`).join("&");
    const state = (await (await fetch(`${again.url}/consumer?${names}`)).json()) as any;
    const expected = new Map<string, unknown>([
      ["m/0", "after-outage"],
      ["m/1", 16],
      ["m/2", 17],
      ["m/3", 18],
      ["m/4", 19],
    ]);
    for (const r of state.registers) expect(r.value).toEqual(expected.get(r.name));
  } finally {
    await again.dispose();
  }
}, 60_000);
