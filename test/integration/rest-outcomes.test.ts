// Request outcomes over REST: PUT /provider/acks, GET /consumer/requests/<id>?wait= long-polling, the ack event's outcomes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.dispose();
});

const call = (method: string, path: string, body?: unknown) => callJson(srv.url, method, path, body);

async function requestId(name: string, value: unknown): Promise<number> {
  return (await call("PUT", "/consumer", { name, value })).body.requests[0].id;
}

describe("outcomes", () => {
  it("an app waiting on a request gets the provider's outcome within 50 ms of the ack", async () => {
    await call("PUT", "/provider", { name: "oc/lamp", value: "off" });
    const id = await requestId("oc/lamp", "on");
    expect((await call("GET", `/consumer/requests/${id}`)).body).toMatchObject({ id, status: "pending" });
    const waiting = fetch(`${srv.url}/consumer/requests/${id}?wait=20s`).then(async (res) => ({
      at: performance.now(),
      body: (await res.json()) as any,
    }));
    // Bounded wait until the server holds the outcome poll, so the ack is what answers it.
    for (let i = 0; i < 500 && srv.server.core.outcomeWaiters < 1; i++) await new Promise((r) => setTimeout(r, 5));
    expect(srv.server.core.outcomeWaiters).toBe(1);
    const polled = await call("GET", "/provider?name=oc/lamp&wait=0");
    expect(polled.body.requests[0].id).toBe(id);
    expect((await call("GET", `/consumer/requests/${id}`)).body.status).toBe("delivered");
    const ackedAt = performance.now();
    const acked = await call("PUT", "/provider/acks", {
      acks: [{ id, status: "failed", message: "relay stuck", result: { code: 7 } }],
    });
    expect(acked.body.acks[0]).toMatchObject({ id, status: "failed" });
    const woke = await waiting;
    expect(woke.body).toMatchObject({
      id,
      name: "oc/lamp",
      status: "failed",
      message: "relay stuck",
      result: { code: 7 },
    });
    expect(woke.at - ackedAt).toBeLessThan(50);
    // The request left the queue.
    expect((await call("GET", "/provider?name=oc/lamp&wait=0")).body.requests).toEqual([]);
  });

  it("GET /provider?after= still acknowledges as done", async () => {
    await call("PUT", "/provider", { name: "oc/fan", value: 0 });
    const id = await requestId("oc/fan", 2);
    await call("GET", `/provider?name=oc/fan&wait=0&after=${id}`);
    expect((await call("GET", `/consumer/requests/${id}?wait=1s`)).body.status).toBe("done");
  });

  it("answers REQUEST_NOT_FOUND for an unknown id, INVALID_INDEX for a malformed one, unknown in acks", async () => {
    const missing = await call("GET", "/consumer/requests/987654");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("REQUEST_NOT_FOUND");
    expect((await call("GET", "/consumer/requests/abc")).body.error.code).toBe("INVALID_INDEX");
    const acks = await call("PUT", "/provider/acks", { acks: [{ id: 987654, status: "done" }] });
    expect(acks.body.acks).toEqual([{ id: 987654, status: "unknown" }]);
    const bad = await call("PUT", "/provider/acks", { acks: [{ id: 1, status: "maybe" }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_BODY");
  });
});

describe("requestKey", () => {
  it("a PUT /consumer retried 10 times with one requestKey makes one request", async () => {
    await call("PUT", "/provider", { name: "oc/heater", value: "off" });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        call("PUT", "/consumer", { name: "oc/heater", value: "on", requestKey: "tap-1" }),
      ),
    );
    const ids = new Set(answers.map((a) => a.body.requests[0].id));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(ids.size).toBe(1);
    const pending = (await call("GET", "/consumer?name=oc/heater&pending=true")).body.registers[0].pending;
    expect(pending.map((p: { id: number }) => p.id)).toEqual([...ids]);
    const tooLong = await call("PUT", "/consumer", { name: "oc/heater", value: "on", requestKey: "x".repeat(129) });
    expect(tooLong.body.error.code).toBe("INVALID_BODY");
  });
});

describe("outcome events", () => {
  it("/events carries one outcome message per request that left the queue", async () => {
    await call("PUT", "/provider", { name: "oc/ev", value: 0 });
    const start = await call("GET", "/consumer?name=oc/ev");
    const events = await fetch(`${srv.url}/events?prefix=oc/ev&after=${start.body.index}`);
    const a = await requestId("oc/ev", 1);
    const b = await requestId("oc/ev", 2);
    await call("PUT", "/provider/acks", { acks: [{ id: b, status: "rejected", message: "no" }] });
    await call("GET", `/provider?name=oc/ev&wait=0&after=${a}`);
    const reader = events.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const outcomes = () =>
      text
        .split("\n\n")
        .filter((block) => block.includes("event: outcome"))
        .map((block) =>
          JSON.parse(
            block
              .split("\n")
              .find((l) => l.startsWith("data:"))!
              .slice(5),
          ),
        );
    for (let i = 0; i < 50 && outcomes().length < 2; i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await reader.cancel();
    expect(outcomes().map((o) => [o.id, o.status, o.message])).toEqual([
      [b, "rejected", "no"],
      [a, "done", undefined],
    ]);
  });
});
