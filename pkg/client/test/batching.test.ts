// Batch polling counted at the server: 1,000 subscriptions share one long-poll, 1,000 provisions one poll and one refresh PUT.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ClientError, SwitchboardClient } from "#client";
import { metricValue, startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { take } from "./helpers.js";

let srv: TestServer;
let writer: SwitchboardClient;

beforeAll(async () => {
  srv = await startTestServer();
  writer = new SwitchboardClient({ url: srv.url });
});

afterAll(async () => {
  await writer.close();
  await srv.dispose();
});

const metric = (name: string, labels: Record<string, string>) => metricValue(srv.url, name, labels);
const inFlight = (route: string) => metric("switchboard_http_requests_in_flight", { method: "GET", route });
const served = async (method: string, route: string) => {
  const n = await metric("switchboard_http_requests_total", { method, route, status: "200" });
  return Number.isNaN(n) ? 0 : n;
};

describe("batch polling", () => {
  it("1,000 subscriptions of one client hold exactly one consumer long-poll", async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `b/${i}`);
    await writer.setMany(names.map((name, i) => ({ name, value: i })));
    const before = await served("GET", "/consumer");
    const client = new SwitchboardClient({ url: srv.url, consumerWait: "60s" });
    const subs = names.map((n) => client.consume(n));
    const first = await Promise.all(subs.map((s) => take(s)));
    expect(first.map((i) => i.value)).toEqual(names.map((_, i) => i));

    await vi.waitFor(async () => expect(await inFlight("/consumer")).toBe(1), { timeout: 5000 });
    expect(await metric("switchboard_waiters", { kind: "consumer" })).toBe(1);
    // One read for the first state, and the held poll has not been answered yet.
    expect((await served("GET", "/consumer")) - before).toBe(1);

    // A change wakes the one poll; the answer reaches the one subscription it concerns.
    await writer.set("b/500", "changed");
    expect(await take(subs[500]!)).toMatchObject({ name: "b/500", value: "changed" });
    await vi.waitFor(async () => expect(await inFlight("/consumer")).toBe(1), { timeout: 5000 });
    expect((await served("GET", "/consumer")) - before).toBe(2);

    // A 1,001st name is over the server's limit: that subscription fails alone, the 1,000 go on.
    const over = client.consume("b/over");
    expect(await take(over)).toMatchObject({ found: false });
    const err = await over.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ status: 400, code: "TOO_MANY_NAMES" });
    await writer.set("b/1", "still watched");
    expect(await take(subs[1]!)).toMatchObject({ value: "still watched" });

    // Removing one and adding one restarts the poll: never a second one.
    subs[0]!.close();
    const extra = client.consume("b/extra");
    expect(await take(extra)).toMatchObject({ found: false });
    await writer.set("b/extra", 1);
    expect(await take(extra)).toMatchObject({ value: 1 });
    await vi.waitFor(async () => expect(await inFlight("/consumer")).toBe(1), { timeout: 5000 });
    expect(await metric("switchboard_waiters", { kind: "consumer" })).toBe(1);

    await client.close();
    await vi.waitFor(async () => expect(await inFlight("/consumer")).toBe(0), { timeout: 5000 });
  });

  it("1,000 provisions with ttl 2s share one provider poll and at most one refresh PUT per second", async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `prov/${i}`);
    const client = new SwitchboardClient({ url: srv.url, providerWait: "60s" });
    const putsBefore = await served("PUT", "/provider");
    const provisions = names.map((n, i) => client.provide(n, { n: i }, { ttl: "2s", metadata: { kind: "test" } }));
    await Promise.all(provisions.map((p) => p.ready));
    // The 1,000 first writes went out as one PUT (the server's batch limit is 1,000).
    expect((await served("PUT", "/provider")) - putsBefore).toBe(1);
    await vi.waitFor(async () => expect(await inFlight("/provider")).toBe(1), { timeout: 5000 });
    expect(await metric("switchboard_waiters", { kind: "provider" })).toBe(1);

    const revision = (await writer.get("prov/0")).index;
    const start = Date.now();
    const putsStart = await served("PUT", "/provider");
    // TTLs run on the server's real clock: let 3.5 s pass (past the 2 s TTL), nothing here can be awaited instead.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const refreshes = (await served("PUT", "/provider")) - putsStart;
    const seconds = (Date.now() - start) / 1000;
    expect(refreshes).toBeGreaterThanOrEqual(2);
    expect(refreshes).toBeLessThanOrEqual(Math.ceil(seconds) + 1);

    // Every register is still there, unchanged: refreshes make no revision and no new version.
    const now = await writer.get(names);
    expect(now.every((r) => r.found && r.version === 1)).toBe(true);
    expect(now.every((r) => r.found && r.metadata?.kind === "test")).toBe(true);
    expect(now[0]!.index).toBe(revision);
    expect(await inFlight("/provider")).toBe(1);

    await Promise.all(provisions.map((p) => p.close()));
    const gone = await writer.get(names);
    expect(gone.every((r) => !r.found)).toBe(true);
    await client.close();
    await vi.waitFor(async () => expect(await inFlight("/provider")).toBe(0), { timeout: 5000 });
  });
});
