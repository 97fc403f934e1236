// GET /consumer?pending=true over real HTTP: the desired value next to the reported one, and long-polls woken by requests.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, metricValue, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.dispose();
});

const call = (method: string, path: string, body?: unknown) => callJson(srv.url, method, path, body);

/** Waits (bounded) until the server holds `n` consumer long-polls. */
async function heldPolls(n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await metricValue(srv.url, "switchboard_waiters", { kind: "consumer" })) >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the poll was never held");
}

describe("pending=true", () => {
  it("shows each register's pending requests in the same answer", async () => {
    await call("PUT", "/provider", { name: "pd/lamp", value: "off" });
    const queued = await call("PUT", "/consumer", { name: "pd/lamp", value: "on", requester: "app" });
    const r = await call("GET", "/consumer?name=pd/lamp&pending=true");
    expect(r.status).toBe(200);
    const [lamp] = r.body.registers;
    expect(lamp).toMatchObject({ name: "pd/lamp", value: "off" });
    expect(lamp.pending).toEqual([
      {
        id: queued.body.requests[0].id,
        value: "on",
        requestedAt: expect.any(String),
        requester: "app",
        expiresAt: expect.any(String),
      },
    ]);
    expect(Number.isNaN(Date.parse(lamp.pending[0].requestedAt))).toBe(false);
    const plain = await call("GET", "/consumer?name=pd/lamp");
    expect(plain.body.registers[0].pending).toBeUndefined();
  });

  it("a new request wakes a held pending=true poll", async () => {
    await call("PUT", "/provider", { name: "pd/fan", value: 0 });
    const first = await call("GET", "/consumer?name=pd/fan&pending=true");
    expect(first.body.registers[0].pending).toEqual([]);
    const started = Date.now();
    const held = call("GET", `/consumer?name=pd/fan&pending=true&index=${first.body.index}&wait=20s`);
    // Once the poll is held, only the request can answer it before the 20 s wait.
    await heldPolls(1);
    await call("PUT", "/consumer", { name: "pd/fan", value: 3 });
    const woken = await held;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(woken.body.index).toBeGreaterThan(first.body.index);
    expect(woken.body.registers[0].pending.map((p: { value: number }) => p.value)).toEqual([3]);
    // The provider acknowledging it wakes the next poll, with the queue now empty.
    const next = call("GET", `/consumer?name=pd/fan&pending=true&index=${woken.body.index}&wait=20s`);
    await heldPolls(1);
    const poll = await call("GET", "/provider?name=pd/fan&wait=0");
    await call("GET", `/provider?name=pd/fan&wait=0&after=${poll.body.requests[0].id}`);
    expect((await next).body.registers[0].pending).toEqual([]);
  });

  it("rejects a malformed flag with INVALID_QUERY", async () => {
    const r = await call("GET", "/consumer?name=pd/lamp&pending=yes");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("INVALID_QUERY");
  });
});
