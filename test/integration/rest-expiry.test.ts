// Change-request expiry over REST on an injected clock: expiresIn, the --request-ttl default, the SSE event.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../helpers/fake-clock.js";
import { callJson, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
const clock = new FakeClock();

beforeAll(async () => {
  srv = await startTestServer({ clock, config: { requestTtl: "10s", sweepInterval: "100ms" } });
});
afterAll(async () => {
  await srv.dispose();
});

const call = (method: string, path: string, body?: unknown) => callJson(srv.url, method, path, body);

/** Moves the injected clock in 100 ms steps until `done` holds (the sweep commits to disk between steps). */
async function advanceUntil(done: () => Promise<boolean>, maxMs: number): Promise<void> {
  for (let moved = 0; moved <= maxMs; moved += 100) {
    if (await done()) return;
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`not done after ${maxMs} ms of clock time`);
}

const pendingIds = async (name: string) =>
  ((await call("GET", `/consumer?name=${name}&pending=true`)).body.registers[0].pending as { id: number }[]).map(
    (p) => p.id,
  );

describe("request expiry", () => {
  it("an undelivered request leaves the queue after expiresIn, announced on /events", async () => {
    await call("PUT", "/provider", { name: "ex/heater", value: "off" });
    const start = await call("GET", "/consumer?name=ex/heater");
    const events = await fetch(`${srv.url}/events?prefix=ex/&after=${start.body.index}`);
    const queued = await call("PUT", "/consumer", {
      requests: [
        { name: "ex/heater", value: "on", expiresIn: "2s" },
        { name: "ex/heater", value: "eco" },
      ],
    });
    const [shortId, defaultId] = queued.body.requests.map((r: { id: number }) => r.id);
    const shown = (await call("GET", "/consumer?name=ex/heater&pending=true")).body.registers[0].pending;
    expect(Date.parse(shown[0].expiresAt) - Date.parse(shown[0].requestedAt)).toBe(2000);
    expect(Date.parse(shown[1].expiresAt) - Date.parse(shown[1].requestedAt)).toBe(10_000);

    await advanceUntil(async () => !(await pendingIds("ex/heater")).includes(shortId), 5000);
    expect(await pendingIds("ex/heater")).toEqual([defaultId]);

    // The stream carries the request, then its expiry.
    const reader = events.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (let i = 0; i < 50 && !text.includes("request_expired"); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await reader.cancel();
    const expiry = text
      .split("\n\n")
      .map((block) => block.split("\n").find((l) => l.startsWith("data:")))
      .filter((l): l is string => l !== undefined)
      .map((l) => JSON.parse(l.slice(5)))
      .find((e) => e.reason === "request_expired");
    expect(expiry).toMatchObject({ type: "ack", name: "ex/heater", ids: [shortId], upTo: shortId });

    await advanceUntil(async () => (await pendingIds("ex/heater")).length === 0, 10_000);
  });

  it("a request a provider has polled stays until the provider acknowledges it", async () => {
    await call("PUT", "/provider", { name: "ex/lamp", value: "off" });
    const queued = await call("PUT", "/consumer", { name: "ex/lamp", value: "on", expiresIn: 1 });
    const id = queued.body.requests[0].id;
    const polled = await call("GET", "/provider?name=ex/lamp&wait=0");
    expect(polled.body.requests.map((r: { id: number }) => r.id)).toEqual([id]);
    // A witness queued after the poll, undelivered, with the same deadline: once it is gone, sweeps ran past it.
    const witness = (await call("PUT", "/consumer", { name: "ex/lamp", value: "dim", expiresIn: 1 })).body.requests[0]
      .id;
    await advanceUntil(async () => !(await pendingIds("ex/lamp")).includes(witness), 5000);
    expect(await pendingIds("ex/lamp")).toEqual([id]);
    await call("GET", `/provider?name=ex/lamp&wait=0&after=${id}`);
    expect(await pendingIds("ex/lamp")).toEqual([]);
  });

  it("rejects a malformed expiresIn with INVALID_BODY and an out-of-range one with TTL_OUT_OF_RANGE", async () => {
    await call("PUT", "/provider", { name: "ex/x", value: 0 });
    const bad = await call("PUT", "/consumer", { name: "ex/x", value: 1, expiresIn: "soon" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_BODY");
    const far = await call("PUT", "/consumer", { name: "ex/x", value: 1, expiresIn: "100000h" });
    expect(far.body.error.code).toBe("TTL_OUT_OF_RANGE");
    expect(await pendingIds("ex/x")).toEqual([]);
  });
});
