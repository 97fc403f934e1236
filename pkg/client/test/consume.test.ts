// Subscriptions against the real server: every change in order, deletes never hidden, prefixes, restarts.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsumeItem, SwitchboardClient } from "#client";
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

describe("consume", () => {
  it("sees every one of 1,000 sequential changes when it keeps up", async () => {
    const client = new SwitchboardClient({ url: srv.url });
    await writer.set("seq/a", 0);
    const sub = client.consume("seq/a");
    expect(await take(sub)).toMatchObject({ name: "seq/a", found: true, value: 0, version: 1 });
    const versions: number[] = [];
    for (let i = 1; i <= 1000; i++) {
      await writer.set("seq/a", i);
      const item = await take(sub);
      expect(item.value).toBe(i);
      versions.push(item.version);
    }
    expect(versions).toEqual(Array.from({ length: 1000 }, (_, i) => i + 2));
    await client.close();
  });

  it("gives a slow reader the latest value, in order, and ends with the last write", async () => {
    const client = new SwitchboardClient({ url: srv.url });
    await writer.set("burst/a", 0);
    const sub = client.consume("burst/a");
    await take(sub);
    for (let i = 1; i <= 200; i++) await writer.set("burst/a", i);
    const seen: number[] = [];
    while (seen.at(-1) !== 200) seen.push((await take(sub)).value as number);
    expect(seen.length).toBeLessThan(200); // coalesced while nobody was reading
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(new Set(seen).size).toBe(seen.length);
    await client.close();
  });

  it("yields found:false before the new value when a register is deleted and re-created unread", async () => {
    const client = new SwitchboardClient({ url: srv.url });
    await writer.set("dr/x", "first");
    const sub = client.consume("dr/x");
    expect(await take(sub)).toMatchObject({ found: true, value: "first" });
    expect(await writer.delete("dr/x")).toEqual(["dr/x"]);
    await writer.set("dr/x", "second");
    expect(await take(sub)).toMatchObject({ name: "dr/x", found: false, value: null });
    expect(await take(sub)).toMatchObject({ found: true, value: "second", version: 1 });
    await client.close();
  });

  it("starts with found:false for a missing register and reports its creation and expiry", async () => {
    const client = new SwitchboardClient({ url: srv.url });
    const sub = client.consume("ttl/short");
    expect(await take(sub)).toMatchObject({ name: "ttl/short", found: false });
    await writer.set("ttl/short", 1, { ttl: "300ms" });
    expect(await take(sub)).toMatchObject({ found: true, value: 1 });
    expect(await take(sub)).toMatchObject({ found: false }); // expired at the server
    await client.close();
  });

  it("watches a prefix: creations, updates and deletions under it, nothing outside", async () => {
    const client = new SwitchboardClient({ url: srv.url });
    await writer.set("pre/a", 1);
    const sub = client.consume({ prefix: "pre/" });
    expect(await take(sub)).toMatchObject({ name: "pre/a", value: 1 });
    await writer.set("other/z", 1);
    await writer.set("pre/b", 2);
    expect(await take(sub)).toMatchObject({ name: "pre/b", found: true, value: 2 });
    await writer.delete("pre/a");
    expect(await take(sub)).toMatchObject({ name: "pre/a", found: false });
    expect([...sub.current.keys()]).toEqual(["pre/b"]);
    await client.close();
  });

  it("many subscriptions of one client each get their own register's changes", async () => {
    const client = new SwitchboardClient({ url: srv.url });
    const subs = Array.from({ length: 20 }, (_, i) => client.consume(`multi/${i}`));
    for (const s of subs) expect(await take(s)).toMatchObject({ found: false });
    await writer.setMany(Array.from({ length: 20 }, (_, i) => ({ name: `multi/${i}`, value: i * 10 })));
    for (const [i, s] of subs.entries()) expect(await take(s)).toMatchObject({ name: `multi/${i}`, value: i * 10 });
    subs[3]!.close();
    expect(await subs[3]!.next()).toEqual({ value: undefined, done: true });
    await writer.set("multi/4", "after");
    expect(await take(subs[4]!)).toMatchObject({ value: "after" });
    await client.close();
  });

  it("does not spin on an empty server, whose index 0 answers at once", async () => {
    const empty = await startTestServer();
    const client = new SwitchboardClient({ url: empty.url, retry: { initialMs: 100, maxMs: 5000 } });
    const direct = new SwitchboardClient({ url: empty.url });
    try {
      const sub = client.consume("empty/x");
      expect(await take(sub)).toMatchObject({ found: false, index: 0 });
      const count = () =>
        metricValue(empty.url, "switchboard_http_requests_total", { method: "GET", route: "/consumer", status: "200" });
      const before = await count();
      // Absence of traffic can only be measured over time: 1 s, in which a spinning loop makes hundreds.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await count()) - before).toBeLessThanOrEqual(6);
      await direct.set("empty/x", "hello");
      expect(await take(sub)).toMatchObject({ found: true, value: "hello" });
    } finally {
      await client.close();
      await direct.close();
      await empty.dispose();
    }
  });

  it("continues with no loss across a server restart (same port and data dir)", async () => {
    const first = await startTestServer();
    const client = new SwitchboardClient({ url: first.url, retry: { initialMs: 20, maxMs: 200 } });
    const direct = new SwitchboardClient({ url: first.url });
    await direct.set("restart/a", "v1");
    const sub = client.consume("restart/a");
    expect(await take(sub)).toMatchObject({ value: "v1" });
    await direct.set("restart/a", "v2");
    expect(await take(sub)).toMatchObject({ value: "v2", version: 2 });
    await first.stop();
    const second = await startTestServer({ port: first.port, dataDir: first.dataDir });
    try {
      // Changed while the client was away: a delete and a re-create, then two updates in lock-step.
      expect(await direct.delete("restart/a")).toEqual(["restart/a"]);
      await direct.set("restart/a", "v3");
      const got: ConsumeItem[] = [await take(sub), await take(sub)];
      expect(got.map((i) => [i.found, i.value])).toEqual([
        [false, null],
        [true, "v3"],
      ]);
      await direct.set("restart/a", "v4");
      expect(await take(sub)).toMatchObject({ value: "v4", version: 2 });
      await direct.set("restart/a", "v5");
      expect(await take(sub)).toMatchObject({ value: "v5", version: 3 });
    } finally {
      await client.close();
      await direct.close();
      await second.dispose();
    }
  });
});
