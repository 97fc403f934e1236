// close() and aborted signals: every iterator ends, every request in flight is aborted, no timer is left.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SwitchboardClient } from "#client";
import { metricValue, startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { countingTimers, scriptedFetch, take } from "./helpers.js";

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
});

afterAll(async () => {
  await srv.dispose();
});

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
const held = async () =>
  (await metricValue(srv.url, "switchboard_waiters", { kind: "consumer" })) +
  (await metricValue(srv.url, "switchboard_waiters", { kind: "provider" }));

describe("close", () => {
  it("leaves no timer, no held request and no open iterator behind", async () => {
    const counting = countingTimers();
    const timersBefore = timeouts();
    const client = new SwitchboardClient({ url: srv.url, timers: counting.timers, debounceMs: 5 });
    const provision = client.provide("close/a", 1, { ttl: "5s" });
    const service = await client.registerService({ type: "close", id: "x", host: "h", port: 1, ttl: "5s" });
    await provision.ready;
    const sub = client.consume("close/a");
    const prefix = client.consume({ prefix: "close/" });
    expect(await take(prefix)).toMatchObject({ name: "close/a", found: true });
    expect(await take(sub)).toMatchObject({ found: true, value: 1 });
    await vi.waitFor(async () => expect(await held()).toBe(2)); // one consumer poll and one provider poll
    expect(counting.active()).toBeGreaterThan(0); // the refresh timer is armed
    const pendingRead = sub.next();
    const pendingRequest = provision.requests.next();

    await client.close();

    expect(counting.active()).toBe(0);
    expect(counting.created()).toBeGreaterThan(0);
    expect(await pendingRead).toEqual({ value: undefined, done: true });
    expect(await pendingRequest).toEqual({ value: undefined, done: true });
    expect(await prefix.next()).toEqual({ value: undefined, done: true });
    expect(await service.provision.requests.next()).toEqual({ value: undefined, done: true });
    expect(client.closed).toBe(true);
    await vi.waitFor(async () => expect(await held()).toBe(0));
    expect(timeouts()).toBeLessThanOrEqual(timersBefore);
    // Closing leaves registers to their TTL (no deregistration).
    const check = new SwitchboardClient({ url: srv.url });
    expect(await check.get("close/a")).toMatchObject({ found: true });
    await check.close();
    // Nothing can start on a closed client.
    await expect(client.get("close/a")).rejects.toThrow();
    expect(await client.consume("close/a").next()).toEqual({ value: undefined, done: true });
  });

  it("an aborted signal ends one subscription, the client's signal ends everything", async () => {
    const counting = countingTimers();
    const clientSignal = new AbortController();
    const client = new SwitchboardClient({ url: srv.url, timers: counting.timers, signal: clientSignal.signal });
    const one = new AbortController();
    const a = client.consume("sig/a", { signal: one.signal });
    const b = client.consume("sig/b");
    await take(a);
    await take(b);
    const waiting = a.next();
    one.abort();
    expect(await waiting).toEqual({ value: undefined, done: true });
    const other = new SwitchboardClient({ url: srv.url });
    await other.set("sig/b", 1);
    expect(await take(b)).toMatchObject({ value: 1 });
    await other.close();
    const bWaiting = b.next();
    clientSignal.abort();
    expect(await bWaiting).toEqual({ value: undefined, done: true });
    await client.close();
    expect(counting.active()).toBe(0);
  });

  it("aborts the fetches in flight and clears its backoff timer (scripted server)", async () => {
    const counting = countingTimers();
    const { fetch, calls } = scriptedFetch({
      "GET /consumer": [
        new Response("down", { status: 503 }), // → backoff timer of 10 min (random 0.999)
      ],
    });
    const client = new SwitchboardClient({
      url: "http://switchboard.invalid",
      fetch,
      timers: counting.timers,
      random: () => 0.999,
      retry: { initialMs: 600_000, maxMs: 600_000 },
    });
    const sub = client.consume("x");
    const p = client.provide("y", 1, { ttl: "1h" }); // its PUT is held forever by the script
    await vi.waitFor(() => expect(calls.length).toBe(2));
    await vi.waitFor(() => expect(counting.active()).toBeGreaterThan(0));
    await client.close();
    expect(counting.active()).toBe(0);
    const put = calls.find((c) => c.method === "PUT");
    expect(put?.url.pathname).toBe("/provider");
    expect(put?.signal?.aborted).toBe(true);
    expect(await sub.next()).toEqual({ value: undefined, done: true });
    await expect(p.ready).rejects.toBeDefined();
  });
});
