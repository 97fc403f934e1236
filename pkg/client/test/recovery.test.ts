// Against a real server: re-creation keeps metadata, lost registers come back, the state is observable, iterators recover.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ConnectionStatus, SwitchboardClient } from "#client";
import { startRelay } from "../../../test/helpers/child-servers.js";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";

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

const del = (name: string) => fetch(`${srv.url}/provider?name=${name}`, { method: "DELETE" });
const get = async (name: string) =>
  ((await (await fetch(`${srv.url}/consumer?name=${name}`)).json()) as { registers: any[] }).registers[0];

describe("re-creation", () => {
  it("set() that re-creates a register puts the provision's metadata back", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const p = device.provide("re/meta", "a", { metadata: { owner: "kitchen" } });
    await p.ready;
    await del("re/meta");
    const r = await p.set("b");
    expect(r).toMatchObject({ version: 2 }); // the create, then the metadata put back
    expect(await get("re/meta")).toMatchObject({ found: true, value: "b", metadata: { owner: "kitchen" } });
    await device.close();
  });

  it("a provision without TTL is re-created when its poll finds it missing", async () => {
    const device = new SwitchboardClient({ url: srv.url, providerWait: "200ms" });
    const p = device.provide("re/nottl", 7, { metadata: { kind: "sensor" } });
    await p.ready;
    await del("re/nottl");
    await vi.waitFor(
      async () => expect(await get("re/nottl")).toMatchObject({ found: true, value: 7, metadata: { kind: "sensor" } }),
      { timeout: 3_000, interval: 25 },
    );
    await device.close();
  });
});

describe("connection state", () => {
  it("goes connecting → connected → reconnecting (with the error and next attempt) → connected", async () => {
    const relay = await startRelay(srv.port);
    const client = new SwitchboardClient({ url: relay.url, consumerWait: "1s", retry: { initialMs: 50, maxMs: 200 } });
    const seen: ConnectionStatus[] = [];
    client.onStateChange((s) => seen.push(s));
    expect(client.state).toBe("connecting");
    const sub = client.consume("state/x");
    await client.ready({ signal: AbortSignal.timeout(3_000) });
    expect(client.status.epoch).toMatch(/^[A-Za-z0-9_-]+$/);
    await sub.ready;
    expect(sub.stale).toBe(false);

    relay.target(null);
    await vi.waitFor(() => expect(client.state).toBe("reconnecting"), { timeout: 3_000, interval: 10 });
    expect(sub.stale).toBe(true);
    await vi.waitFor(() => expect(client.status.nextAttemptAt).toBeGreaterThan(0), { timeout: 3_000, interval: 10 });
    expect(String(client.status.lastError)).toMatch(/ConnectionError/);

    relay.target(srv.port);
    await vi.waitFor(() => expect(client.state).toBe("connected"), { timeout: 3_000, interval: 10 });
    expect(client.status.lastError).toBeUndefined();
    expect(sub.stale).toBe(false);
    expect(seen.map((s) => s.state)).toEqual(expect.arrayContaining(["connected", "reconnecting"]));
    await client.close();
    expect(client.state).toBe("closed");
    await relay.close();
  });

  it("ready() gives up when its signal aborts", async () => {
    const relay = await startRelay(null); // nothing answers
    const client = new SwitchboardClient({ url: relay.url });
    const err = await client.ready({ signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "TimeoutError" });
    expect(client.state).toBe("connecting");
    expect(String(client.status.lastError)).toMatch(/ConnectionError/);
    await client.close();
    await relay.close();
  });
});

describe("provider ergonomics", () => {
  it("requests can be iterated again after break; the request in hand comes first", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const p = device.provide("erg/lamp", "off");
    await p.ready;
    await app.request("erg/lamp", "on", { requester: "tester" });
    for await (const r of p.requests) {
      expect(r).toMatchObject({ value: "on", requester: "tester" });
      break; // not handled
    }
    await app.requestMany([{ name: "erg/lamp", value: "dim" }]);
    const again: unknown[] = [];
    for await (const r of p.requests) {
      again.push(r.value);
      if (again.length === 2) break;
    }
    expect(again).toEqual(["on", "dim"]);
    await device.close();
  });

  it("providing a name twice is a ClientError ALREADY_PROVIDED; after close() it may be provided again", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const p = device.provide("erg/twice", 1);
    await p.ready;
    expect(() => device.provide("erg/twice", 2)).toThrow(expect.objectContaining({ code: "ALREADY_PROVIDED" }));
    await p.close({ keep: true });
    const again = device.provide("erg/twice", 3);
    await again.ready;
    expect(await app.get("erg/twice")).toMatchObject({ value: 3 });
    await device.close();
  });

  it("a token function is asked for every request", async () => {
    let calls = 0;
    const client = new SwitchboardClient({
      url: srv.url,
      token: async () => {
        calls += 1;
        return `t${calls}`;
      },
    });
    await client.get("any");
    await client.get("any");
    expect(calls).toBe(2);
    await client.close();
  });
});

describe("interop", () => {
  it("subscribe() delivers items and unsubscribe() takes the name out of the poll at once", async () => {
    await app.set("obs/a", 1);
    const sub = app.consume("obs/a");
    const values: unknown[] = [];
    const subscription = sub.subscribe({ next: (item) => values.push(item.value) });
    await vi.waitFor(() => expect(values).toEqual([1]), { timeout: 2_000, interval: 10 });
    subscription.unsubscribe();
    expect(subscription.closed).toBe(true);
    expect(sub.closed).toBe(true);
    expect(sub["@@observable"]()).toBe(sub);
  });

  it("onChange() fires when current changes, and current keeps its identity otherwise", async () => {
    const sub = app.consume({ prefix: "chg/" });
    await sub.ready;
    const empty = sub.current;
    expect(sub.current).toBe(empty);
    let changes = 0;
    sub.onChange(() => changes++);
    await app.set("chg/a", 1);
    await vi.waitFor(() => expect(changes).toBe(1), { timeout: 2_000, interval: 10 });
    expect(sub.current).not.toBe(empty);
    expect(sub.current.get("chg/a")).toMatchObject({ value: 1 });
    sub.close();
  });

  it("many concurrent calls add one abort listener, not one each (no MaxListeners warning)", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      await Promise.all(Array.from({ length: 30 }, (_, i) => app.get(`many/${i}`)));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});

describe("handle()", () => {
  it("acknowledges what the handler finished, retries what it failed or timed out on, in order", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const p = device.provide("erg/handled", 0);
    await p.ready;
    await app.requestMany([
      { name: "erg/handled", value: "ok-1" },
      { name: "erg/handled", value: "fail-once" },
      { name: "erg/handled", value: "slow-once" },
      { name: "erg/handled", value: "ok-2" },
    ]);
    const done: unknown[] = [];
    const errors: string[] = [];
    const tried = new Set<unknown>();
    const stop = new AbortController();
    const loop = p.handle(
      async (req, signal) => {
        const first = !tried.has(req.value);
        tried.add(req.value);
        if (req.value === "fail-once" && first) throw new Error("flaky");
        if (req.value === "slow-once" && first)
          await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
        done.push(req.value);
        // Stopping inside the handler would give this request back; stop once it is handled.
        if (done.length === 4) setTimeout(() => stop.abort(), 0);
      },
      { timeout: "100ms", signal: stop.signal, onError: (err) => errors.push(String(err)) },
    );
    await loop;
    expect(done).toEqual(["ok-1", "fail-once", "slow-once", "ok-2"]);
    expect(errors).toEqual([expect.stringContaining("flaky"), expect.stringContaining("TimeoutError")]);
    // Every one was acknowledged by the next poll.
    await vi.waitFor(
      async () => {
        const res = await fetch(`${srv.url}/provider?name=erg/handled&wait=0`);
        expect(((await res.json()) as { requests: unknown[] }).requests).toEqual([]);
      },
      { timeout: 3_000, interval: 25 },
    );
    await device.close();
  });

  it("ack() marks the request in hand handled; nack() gives it back", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    const p = device.provide("erg/acks", 0);
    await p.ready;
    expect(p.ack()).toBe(false);
    await app.requestMany([
      { name: "erg/acks", value: 1 },
      { name: "erg/acks", value: 2 },
    ]);
    const first = await p.requests.next();
    expect(first.value).toMatchObject({ value: 1 });
    expect(p.nack()).toBe(true);
    expect((await p.requests.next()).value).toMatchObject({ value: 1 });
    expect(p.ack()).toBe(true);
    expect((await p.requests.next()).value).toMatchObject({ value: 2 });
    await device.close();
  });
});
