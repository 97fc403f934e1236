// Providers against the real server: change-request round trip, at-least-once redelivery, deregistration, services.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ClientError, SwitchboardClient } from "#client";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { take } from "./helpers.js";

let srv: TestServer;
let app: SwitchboardClient;

beforeAll(async () => {
  srv = await startTestServer();
  app = new SwitchboardClient({ url: srv.url });
});

afterAll(async () => {
  await app.close();
  await srv.dispose();
});

/** Pending requests as the server holds them, read without acknowledging anything (no `after`). */
async function pendingIds(name: string): Promise<number[]> {
  const res = await fetch(`${srv.url}/provider?name=${encodeURIComponent(name)}&wait=0`);
  const body = (await res.json()) as { requests: { id: number }[] };
  return body.requests.map((r) => r.id);
}

describe("provide", () => {
  it("round trip: consumer request → provider → new value → consumer", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const lamp = device.provide("dev/lamp", "off", { ttl: "10s", metadata: { room: "hall" } });
    await lamp.ready;
    const sub = app.consume("dev/lamp");
    expect(await take(sub)).toMatchObject({ value: "off", metadata: { room: "hall" }, version: 1 });

    const receipt = await sub.request("on");
    expect(receipt.name).toBe("dev/lamp");
    const req = await take(lamp.requests);
    expect(req).toMatchObject({ id: receipt.id, name: "dev/lamp", value: "on" });
    expect(Number.isNaN(Date.parse(req.requestedAt))).toBe(false);
    await lamp.set(req.value);
    expect(await take(sub)).toMatchObject({ value: "on", version: 2, metadata: { room: "hall" } });
    expect(lamp.value).toBe("on");

    // Moving past the request acknowledges it on the next provider poll.
    const next = lamp.requests.next();
    const second = await app.request("dev/lamp", "dim");
    expect((await next).value).toMatchObject({ id: second.id, value: "dim" });
    expect(await pendingIds("dev/lamp")).toEqual([second.id]);
    await device.close();
    sub.close();
  });

  it("a provider that crashes before moving past a request gets it again", async () => {
    const first = new SwitchboardClient({ url: srv.url });
    const door = first.provide("dev/door", "closed");
    await door.ready;
    const receipt = await app.request("dev/door", "open");
    expect(await take(door.requests)).toMatchObject({ id: receipt.id, value: "open" });
    await first.close(); // "crash": the request was never moved past

    const second = new SwitchboardClient({ url: srv.url });
    const again = second.provide("dev/door", "closed");
    // Breaking out of the loop does not acknowledge either.
    for await (const r of again.requests) {
      expect(r).toMatchObject({ id: receipt.id, value: "open" });
      break;
    }
    expect(await pendingIds("dev/door")).toEqual([receipt.id]);
    await second.close();

    const third = new SwitchboardClient({ url: srv.url });
    const last = third.provide("dev/door", "closed");
    expect(await take(last.requests)).toMatchObject({ id: receipt.id });
    const waiting = last.requests.next(); // moves past it
    const later = await app.request("dev/door", "lock");
    expect((await waiting).value).toMatchObject({ id: later.id });
    expect(await pendingIds("dev/door")).toEqual([later.id]);
    await third.close();
  });

  it("a slow provider holds back only its own register", async () => {
    const device = new SwitchboardClient({ url: srv.url, debounceMs: 1 });
    const slow = device.provide("dev/slow", 0);
    const fast = device.provide("dev/fast", 0);
    await Promise.all([slow.ready, fast.ready]);
    const s1 = await app.request("dev/slow", 1);
    expect(await take(slow.requests)).toMatchObject({ id: s1.id });
    const got: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await app.request("dev/fast", i);
      const item = await take(fast.requests);
      expect(item.id).toBe(r.id);
      got.push(item.value as number);
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    const s2 = await app.request("dev/slow", 2);
    expect(await take(slow.requests)).toMatchObject({ id: s2.id, value: 2 });
    await device.close();
  });

  it("acknowledges one register's requests while another register of the same poll stays quiet", async () => {
    const device = new SwitchboardClient({ url: srv.url, debounceMs: 1 });
    const quiet = device.provide("ack/quiet", 0);
    const busy = device.provide("ack/busy", 0);
    await Promise.all([quiet.ready, busy.ready]);
    for (let i = 0; i < 3; i++) {
      const r = await app.request("ack/busy", i);
      expect(await take(busy.requests)).toMatchObject({ id: r.id, value: i });
    }
    const waiting = busy.requests.next(); // moves past the third
    await vi.waitFor(async () => expect(await pendingIds("ack/busy")).toEqual([]), { timeout: 5000 });
    const q = await app.request("ack/quiet", "wake");
    expect(await take(quiet.requests)).toMatchObject({ id: q.id });
    await device.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it("close() deregisters, close({ keep: true }) leaves the register to its TTL", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const a = device.provide("dereg/a", 1, { ttl: "30s" });
    const b = device.provide("dereg/b", 1, { ttl: "30s" });
    await Promise.all([a.ready, b.ready]);
    await a.close();
    await b.close({ keep: true });
    const [ga, gb] = await app.get(["dereg/a", "dereg/b"]);
    expect(ga).toMatchObject({ found: false });
    expect(gb).toMatchObject({ found: true, value: 1 });
    expect(await a.requests.next()).toEqual({ value: undefined, done: true });
    await expect(a.set(2)).rejects.toThrow();
    await device.close();
  });

  it("a write the server rejects fails ready and the request stream with a ClientError", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const big = device.provide("dev/big", "x".repeat(70 * 1024));
    // Same tick, so same PUT: the server refuses the batch whole, the client splits it to find the culprit.
    const ok = device.provide("dev/ok", 1);
    const err = await big.ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: "VALUE_TOO_LARGE" });
    await expect(big.requests.next()).rejects.toBeInstanceOf(ClientError);
    await ok.ready;
    expect(await app.get("dev/ok")).toMatchObject({ found: true, value: 1 });
    await device.close();
  });

  it("registers services and discovers them; deregistration removes them", async () => {
    const a = new SwitchboardClient({ url: srv.url });
    const s1 = await a.registerService({ type: "api", id: "one", host: "10.0.0.1", port: 8080, ttl: "10s" });
    const s2 = await a.registerService({
      type: "api",
      id: "two",
      host: "10.0.0.2",
      port: 8081,
      protocol: "http",
      metadata: { zone: "b" },
      ttl: "10s",
    });
    await app.set("services/api/broken", "not an endpoint");
    expect(s1.name).toBe("services/api/one");
    const found = await app.discover("api");
    expect(found.map((s) => [s.id, s.host, s.port])).toEqual([
      ["one", "10.0.0.1", 8080],
      ["two", "10.0.0.2", 8081],
    ]);
    expect(found[1]).toMatchObject({ protocol: "http", metadata: { zone: "b" } });
    expect(await app.get("services/api/one")).toMatchObject({ expiresAt: expect.any(String) });
    await s2.close();
    expect((await app.discover("api")).map((s) => s.id)).toEqual(["one"]);
    await a.close();
  });
});
