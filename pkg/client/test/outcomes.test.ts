// A provider's outcome reports through the client (req.done / reject / fail → PUT /provider/acks), against the real server.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ChangeRequest, ClientError, SwitchboardClient } from "#client";
import { type Relay, startRelay } from "../../../test/helpers/child-servers.js";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { take } from "./helpers.js";

let srv: TestServer;
let app: SwitchboardClient;
const devices: SwitchboardClient[] = [];

beforeAll(async () => {
  srv = await startTestServer({ config: { maxValueBytes: 1024 } });
  app = new SwitchboardClient({ url: srv.url });
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
});
afterAll(async () => {
  await app.close();
  await srv.dispose();
});

function device(options: Partial<ConstructorParameters<typeof SwitchboardClient>[0]> = {}): SwitchboardClient {
  const d = new SwitchboardClient({ url: srv.url, ...options });
  devices.push(d);
  return d;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

/** A fetch whose reports (PUT /provider/acks) take 300 ms to leave. */
const slowAcks: typeof fetch = async (input, init) => {
  if ((init?.method ?? "GET") === "PUT" && new URL(String(input)).pathname === "/provider/acks") {
    await new Promise((r) => setTimeout(r, 300));
  }
  return fetch(input, init);
};

/** Pending requests as the server holds them, read without acknowledging anything (no `after`). */
async function pendingIds(name: string): Promise<number[]> {
  const res = await fetch(`${srv.url}/provider?name=${encodeURIComponent(name)}&wait=0`);
  return ((await res.json()) as { requests: { id: number }[] }).requests.map((r) => r.id);
}

describe("provider outcomes", () => {
  it("reject, done with a result and fail reach the app's outcome; the report answers the recorded outcome", async () => {
    const d = device();
    const lamp = d.provide("o/lamp", "off", { ttl: "10s" });
    await lamp.ready;

    const r1 = await app.request("o/lamp", "blink");
    const q1 = await take(lamp.requests);
    // The request still compares as its wire fields: the report methods are not enumerable.
    expect(q1).toEqual({ id: r1.id, name: "o/lamp", value: "blink", requestedAt: expect.any(String) });
    expect(JSON.stringify(q1)).not.toContain("done");
    expect(await q1.reject("busy")).toMatchObject({ id: r1.id, status: "rejected", message: "busy" });
    expect(await r1.outcome).toMatchObject({ id: r1.id, name: "o/lamp", status: "rejected", message: "busy" });

    const r2 = await app.request("o/lamp", "on");
    const q2 = await take(lamp.requests);
    expect(q2.id).toBe(r2.id);
    await lamp.set("on");
    const reported = q2.done({ ok: true });
    expect(await r2.outcome).toMatchObject({ id: r2.id, status: "done", result: { ok: true } });
    expect(await reported).toMatchObject({ status: "done", result: { ok: true } });

    const r3 = await app.request("o/lamp", "dim");
    const q3 = await take(lamp.requests);
    q3.fail("driver error", { code: 7 }); // not awaited: settles (and never counts as an unhandled rejection)
    expect(await r3.outcome).toMatchObject({
      id: r3.id,
      status: "failed",
      message: "driver error",
      result: { code: 7 },
    });
    expect(await pendingIds("o/lamp")).toEqual([]);
  });

  it("close() sends the reports made before it, then deletes the register", async () => {
    const d = device({ fetch: slowAcks });
    const oven = d.provide("o/oven", "off", { ttl: "10s" });
    await oven.ready;
    const r = await app.request("o/oven", "on");
    void (await take(oven.requests)).reject("child lock");
    await oven.close();
    expect(await r.outcome).toMatchObject({ status: "rejected", message: "child lock" });
    expect((await app.get("o/oven")).found).toBe(false);
  });

  it("plain iteration still acknowledges as done", async () => {
    const d = device();
    const fan = d.provide("o/fan", 0, { ttl: "10s" });
    await fan.ready;
    const r = await app.request("o/fan", 2);
    expect((await take(fan.requests)).id).toBe(r.id);
    const next = fan.requests.next(); // moves past it: the next poll acknowledges it
    expect(await r.outcome).toMatchObject({ id: r.id, status: "done" });
    expect((await r.outcome).result).toBeUndefined();
    void next;
  });

  it("a report made after the request was handled, or a second one, is refused and sends nothing", async () => {
    const d = device();
    const valve = d.provide("o/valve", 0, { ttl: "10s" });
    await valve.ready;
    const r1 = await app.request("o/valve", 1);
    const q1 = await take(valve.requests);
    await q1.reject("closed for service");
    const again = await rejection(q1.done());
    expect(again).toBeInstanceOf(ClientError);
    expect(again).toMatchObject({ status: 0, code: "ALREADY_HANDLED" });
    expect(await r1.outcome).toMatchObject({ status: "rejected", message: "closed for service" });

    const r2 = await app.request("o/valve", 2);
    const q2 = await take(valve.requests);
    const r3 = await app.request("o/valve", 3);
    const q3 = await take(valve.requests); // moved past q2: handled as done
    expect(q3.id).toBe(r3.id);
    expect(await rejection(q2.fail("too late"))).toMatchObject({ code: "ALREADY_HANDLED" });
    expect(await rejection(q3.reject("x".repeat(1025)))).toMatchObject({ status: 400, code: "INVALID_BODY" });
    await q3.done(); // the refused report left it in hand
    expect(await r2.outcome).toMatchObject({ status: "done" });
    expect(await r3.outcome).toMatchObject({ status: "done" });
  });

  it("the poll's after= never acknowledges a reported request as done before its report lands", async () => {
    // Reports take 300 ms to reach the server; meanwhile the reader handles later requests plainly.
    const d = device({ fetch: slowAcks });
    const heater = d.provide("o/heater", "off", { ttl: "10s" });
    await heater.ready;
    const asked = [];
    for (const v of ["a", "b", "c", "d"]) asked.push(await app.request("o/heater", v));
    const got: ChangeRequest[] = [];
    for (let i = 0; i < 4; i++) {
      const q = await take(heater.requests);
      got.push(q);
      if (q.value === "a") void q.reject("not now");
      if (q.value === "c") void q.fail("broken");
      // b and d: handled by moving on (d by the ack() below)
    }
    heater.ack();
    expect(got.map((q) => q.id)).toEqual(asked.map((r) => r.id));
    const outcomes = await Promise.all(asked.map((r) => r.outcome));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "done", "failed", "done"]);
    expect(await pendingIds("o/heater")).toEqual([]);
  });

  it("handle(): a handler that reports and then throws is not retried", async () => {
    const d = device();
    const door = d.provide("o/door", "closed", { ttl: "10s" });
    await door.ready;
    const errors: unknown[] = [];
    const calls: number[] = [];
    const stop = new AbortController();
    const loop = door.handle(
      async (req) => {
        calls.push(req.id);
        if (req.value === "open") {
          await req.reject("locked");
          throw new Error("after the report");
        }
        await req.done({ now: req.value });
      },
      { signal: stop.signal, onError: (e) => errors.push(e) },
    );
    const r1 = await app.request("o/door", "open");
    const r2 = await app.request("o/door", "ajar");
    expect(await r1.outcome).toMatchObject({ status: "rejected", message: "locked" });
    expect(await r2.outcome).toMatchObject({ status: "done", result: { now: "ajar" } });
    expect(calls).toEqual([r1.id, r2.id]);
    expect(errors).toHaveLength(1);
    stop.abort();
    await loop;
  });
});

describe("reports across outages", () => {
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  it("an outcome reported while the server cannot be reached arrives when it can", async () => {
    relay = await startRelay(srv.port);
    const d = device({ url: relay.url, retry: { initialMs: 50, maxMs: 200 } });
    const pump = d.provide("o/pump", "idle", { ttl: "20s" });
    await pump.ready;
    const r = await app.request("o/pump", "run");
    const q = await take(pump.requests);
    expect(q.id).toBe(r.id);

    relay.target(null);
    const reconnecting = new Promise<void>((resolve) => {
      const off = d.onStateChange((s) => {
        if (s.state === "reconnecting") {
          off();
          resolve();
        }
      });
    });
    const reported = q.reject("pressure too low");
    await reconnecting;
    // Several retries fail meanwhile; nothing was reported, nothing acknowledged.
    await new Promise((res) => setTimeout(res, 400));
    expect(await app.outcome(r.id)).toMatchObject({ status: "delivered" });
    expect(await pendingIds("o/pump")).toEqual([r.id]);

    relay.target(srv.port);
    expect(await reported).toMatchObject({ id: r.id, status: "rejected" });
    expect(await r.outcome).toMatchObject({ status: "rejected", message: "pressure too low" });
  });

  it("a result the server refuses rejects the report, and the status alone still arrives", async () => {
    const d = device();
    const cam = d.provide("o/cam", "idle", { ttl: "10s" });
    await cam.ready;
    const r = await app.request("o/cam", "snap");
    const q = await take(cam.requests);
    const err = await rejection(q.fail("sensor", { image: "x".repeat(4000) }));
    expect(err).toMatchObject({ status: 413, code: "VALUE_TOO_LARGE" });
    const o = await r.outcome;
    expect(o).toMatchObject({ status: "failed" });
    expect(o.result).toBeUndefined();
  });

  it("PUT /provider/acks?epoch= of another history applies nothing", async () => {
    await app.set("o/epoch", 0);
    const r = await app.request("o/epoch", 1);
    const res = await fetch(`${srv.url}/provider/acks?epoch=gone`, {
      method: "PUT",
      body: JSON.stringify({ acks: [{ id: r.id, status: "rejected" }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { acks: unknown[] }).acks).toEqual([{ id: r.id, status: "unknown" }]);
    expect(await pendingIds("o/epoch")).toEqual([r.id]);
    const epoch = app.status.epoch;
    const ok = await fetch(`${srv.url}/provider/acks?epoch=${epoch}`, {
      method: "PUT",
      body: JSON.stringify({ acks: [{ id: r.id, status: "rejected" }] }),
    });
    expect(((await ok.json()) as { acks: unknown[] }).acks).toEqual([
      expect.objectContaining({ id: r.id, status: "rejected" }),
    ]);
  });
});
