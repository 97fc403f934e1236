// The REST API over real HTTP on port 0: long-poll timing, looping consumers, disconnects, limits, SSE, paging.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let url: string;

beforeAll(async () => {
  srv = await startTestServer({ config: { maxQueue: 3 } });
  url = srv.url;
});
afterAll(async () => {
  await srv.dispose();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

const put = (registers: unknown) => call("PUT", "/provider", registers);

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("provider and consumer", () => {
  it("sets a register and reads it back with index header and body index", async () => {
    const r = await put({ name: "tour/a", value: { on: true }, metadata: { unit: "bool" } });
    expect(r.status).toBe(200);
    expect(r.body.registers[0]).toMatchObject({ name: "tour/a", version: 1, changed: true, expiresAt: null });
    const g = await call("GET", "/consumer?name=tour/a&name=tour/missing");
    expect(g.status).toBe(200);
    expect(Number(g.headers.get("x-switchboard-index"))).toBe(g.body.index);
    expect(g.body.registers).toEqual([
      expect.objectContaining({
        name: "tour/a",
        found: true,
        value: { on: true },
        metadata: { unit: "bool" },
        version: 1,
      }),
      { name: "tour/missing", found: false },
    ]);
  });

  it("wakes a long-poll within 50 ms of a write", async () => {
    await put({ name: "wake/x", value: 0 });
    const first = await call("GET", "/consumer?name=wake/x");
    const t0 = { at: 0 };
    const poll = fetch(`${url}/consumer?name=wake/x&index=${first.body.index}&wait=10s`).then(async (res) => {
      const at = performance.now();
      return { at, body: (await res.json()) as any };
    });
    await waitFor(async () => (await metricValue(url, "switchboard_waiters", { kind: "consumer" })) >= 1, "waiter");
    t0.at = performance.now();
    await put({ name: "wake/x", value: 1 });
    const woke = await poll;
    expect(woke.body.registers[0].value).toBe(1);
    expect(woke.body.index).toBeGreaterThan(first.body.index);
    expect(woke.at - t0.at).toBeLessThan(50);
  });

  it("answers a timed-out poll with the unchanged state and the same index", async () => {
    await put({ name: "quiet/x", value: "still" });
    const first = await call("GET", "/consumer?name=quiet/x");
    const t0 = performance.now();
    const r = await call("GET", `/consumer?name=quiet/x&index=${first.body.index}&wait=200ms`);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(r.status).toBe(200);
    expect(r.body.index).toBe(first.body.index);
    expect(r.body.registers[0]).toMatchObject({ value: "still", version: 1 });
  });

  it("lets two consumers looping on the index follow 1,000 rapid writes without missing a change", async () => {
    await put({ name: "rapid/x", value: -1 });
    const start = await call("GET", "/consumer?name=rapid/x");
    let writing = true;
    const consumer = async () => {
      let index = start.body.index;
      const seen: number[] = [];
      for (;;) {
        const r = await call("GET", `/consumer?name=rapid/x&index=${index}&wait=2s`);
        expect(r.body.index).toBeGreaterThanOrEqual(index);
        index = r.body.index;
        const v = r.body.registers[0].value as number;
        if (seen.length === 0 || seen[seen.length - 1] !== v) seen.push(v);
        if (!writing && v === 999) return seen;
      }
    };
    const consumers = [consumer(), consumer()];
    for (let i = 0; i < 1000; i++) await put({ name: "rapid/x", value: i });
    writing = false;
    const [a, b] = await Promise.all(consumers);
    for (const seen of [a!, b!]) {
      expect(seen[seen.length - 1]).toBe(999);
      // Values only move forward: a consumer may skip intermediate values but never goes back.
      for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    }
    const final = await call("GET", "/consumer?name=rapid/x");
    expect(final.body.registers[0].version).toBe(1001);
  });

  it("takes a poll naming 1,000 registers with long names", async () => {
    const names = Array.from(
      { length: 1000 },
      (_, i) => `fleet/building-${String(i).padStart(4, "0")}/${"x".repeat(200)}`,
    );
    await put({ registers: names.slice(0, 3).map((name, i) => ({ name, value: i })) });
    const r = await call("GET", `/consumer?${names.map((n) => `name=${n}`).join("&")}`);
    expect(r.status).toBe(200);
    expect(r.body.registers).toHaveLength(1000);
    expect(r.body.registers.filter((x: any) => x.found).map((x: any) => x.value)).toEqual([0, 1, 2]);
  });

  it("frees the waiter of a client that disconnects", async () => {
    await put({ name: "gone/x", value: 1 });
    const { body } = await call("GET", "/consumer?name=gone/x");
    const before = await metricValue(url, "switchboard_waiters", { kind: "consumer" });
    const controllers = Array.from({ length: 20 }, () => new AbortController());
    const polls = controllers.map((ac) =>
      fetch(`${url}/consumer?name=gone/x&index=${body.index}&wait=60s`, { signal: ac.signal }).catch(() => "aborted"),
    );
    await waitFor(
      async () => (await metricValue(url, "switchboard_waiters", { kind: "consumer" })) === before + 20,
      "20 waiters",
    );
    for (const ac of controllers) ac.abort();
    expect(await Promise.all(polls)).toEqual(Array(20).fill("aborted"));
    await waitFor(
      async () => (await metricValue(url, "switchboard_waiters", { kind: "consumer" })) === before,
      "waiters freed",
    );
    expect(await metricValue(url, "switchboard_waiters", { kind: "consumer" })).toBe(before);
  });

  it("reports deletes as found:false to a prefix watcher", async () => {
    await put({
      registers: [
        { name: "pre/a", value: 1 },
        { name: "pre/b", value: 2 },
      ],
    });
    const first = await call("GET", "/consumer?prefix=pre/");
    expect(first.body.registers.map((r: any) => r.name)).toEqual(["pre/a", "pre/b"]);
    const poll = call("GET", `/consumer?prefix=pre/&index=${first.body.index}&wait=5s`);
    await call("DELETE", "/provider?name=pre/a");
    const r = await poll;
    expect(r.body.registers).toEqual(
      expect.arrayContaining([
        { name: "pre/a", found: false },
        expect.objectContaining({ name: "pre/b", found: true }),
      ]),
    );
  });

  it("does not wake consumers on a TTL-only refresh", async () => {
    await put({ name: "ttl/x", value: 1, ttl: "1m" });
    const first = await call("GET", "/consumer?name=ttl/x");
    const poll = call("GET", `/consumer?name=ttl/x&index=${first.body.index}&wait=300ms`);
    await waitFor(async () => (await metricValue(url, "switchboard_waiters", { kind: "consumer" })) >= 1, "waiter");
    const refresh = await put({ name: "ttl/x", value: 1, ttl: "2m" });
    expect(refresh.body.registers[0].changed).toBe(false);
    expect(Date.parse(refresh.body.registers[0].expiresAt)).toBeGreaterThan(
      Date.parse(first.body.registers[0].expiresAt),
    );
    const r = await poll;
    expect(r.body.index).toBe(first.body.index);
  });

  it("round-trips a change request with at-least-once delivery", async () => {
    await put({ name: "lamp", value: "off" });
    const req = await call("PUT", "/consumer", { name: "lamp", value: "on", requester: "app" });
    expect(req.status).toBe(202);
    const id = req.body.requests[0].id as number;
    const p1 = await call("GET", "/provider?name=lamp&wait=0");
    expect(p1.body.requests).toEqual([expect.objectContaining({ id, name: "lamp", value: "on", requester: "app" })]);
    // The provider "crashed" before acknowledging: it gets the same request again.
    const p2 = await call("GET", "/provider?name=lamp&after=0&wait=0");
    expect(p2.body.requests.map((r: any) => r.id)).toEqual([id]);
    const p3 = await call("GET", `/provider?name=lamp&after=${id}&wait=100ms`);
    expect(p3.body.requests).toEqual([]);
  });

  it("wakes a provider poll when a request arrives", async () => {
    await put({ name: "door", value: "closed" });
    const poll = call("GET", "/provider?name=door&wait=10s");
    await waitFor(
      async () => (await metricValue(url, "switchboard_waiters", { kind: "provider" })) >= 1,
      "provider waiter",
    );
    await call("PUT", "/consumer", { name: "door", value: "open" });
    const r = await poll;
    expect(r.body.requests.map((q: any) => q.value)).toEqual(["open"]);
  });
});

describe("limits and bad input", () => {
  const big = (n: number) => "x".repeat(n);
  const cases: [string, () => Promise<{ status: number; body: any; headers: Headers }>, number, string][] = [
    ["body over 1 MiB", () => put({ name: "l/a", value: big(1024 * 1024 + 10) }), 413, "BODY_TOO_LARGE"],
    ["value over 64 KiB", () => put({ name: "l/a", value: big(64 * 1024) }), 413, "VALUE_TOO_LARGE"],
    [
      "metadata over 16 KiB",
      () => put({ name: "l/a", value: 1, metadata: { m: big(16 * 1024) } }),
      413,
      "METADATA_TOO_LARGE",
    ],
    [
      "batch over 1,000",
      () => put({ registers: Array.from({ length: 1001 }, (_, i) => ({ name: `l/${i}`, value: i })) }),
      413,
      "BATCH_TOO_LARGE",
    ],
    [
      "over 1,000 names per poll",
      () => call("GET", `/consumer?${Array.from({ length: 1001 }, (_, i) => `name=n${i}`).join("&")}`),
      400,
      "TOO_MANY_NAMES",
    ],
    ["wait over 5 min", () => call("GET", "/consumer?name=a&index=1&wait=6m"), 400, "WAIT_TOO_LONG"],
    ["bad duration", () => call("GET", "/consumer?name=a&index=1&wait=soon"), 400, "INVALID_DURATION"],
    ["bad index", () => call("GET", "/consumer?name=a&index=-1"), 400, "INVALID_INDEX"],
    ["no selector", () => call("GET", "/consumer"), 400, "NO_SELECTOR"],
    ["delete naming nothing", () => call("DELETE", "/provider"), 400, "NO_SELECTOR"],
    ["empty batch", () => put({ registers: [] }), 400, "INVALID_BODY"],
    [
      "value nested 100,000 deep",
      () => call("PUT", "/provider", `{"name":"l/deep","value":${"[".repeat(100_000)}${"]".repeat(100_000)}}`),
      400,
      "NESTING_TOO_DEEP",
    ],
    [
      "metadata nested too deep",
      () => put({ name: "l/deep", value: 1, metadata: { m: JSON.parse(`${"[".repeat(70)}${"]".repeat(70)}`) } }),
      400,
      "NESTING_TOO_DEEP",
    ],
    [
      "a number JSON cannot carry",
      () => call("PUT", "/provider", '{"name":"l/inf","value":{"n":1e400}}'),
      400,
      "VALUE_NOT_JSON",
    ],
    ["invalid name", () => put({ name: "bad name!", value: 1 }), 400, "INVALID_NAME"],
    ["invalid JSON", () => call("PUT", "/provider", "{nope"), 400, "INVALID_BODY"],
    ["wrong shape", () => put({ registers: "x" }), 400, "INVALID_BODY"],
    [
      "duplicate in batch",
      () =>
        put({
          registers: [
            { name: "d", value: 1 },
            { name: "d", value: 2 },
          ],
        }),
      400,
      "DUPLICATE_NAME",
    ],
    [
      "request to unknown register",
      () => call("PUT", "/consumer", { name: "nobody", value: 1 }),
      404,
      "REGISTER_NOT_FOUND",
    ],
    ["unknown route", () => call("GET", "/nowhere"), 404, "ROUTE_NOT_FOUND"],
    ["page limit 0", () => call("GET", "/registers?limit=0"), 400, "INVALID_QUERY"],
    ["bad cursor", () => call("GET", "/registers?cursor=%%%"), 400, "INVALID_CURSOR"],
  ];
  it.each(cases)("%s", async (_what, run, status, code) => {
    const before = await call("GET", "/registers?prefix=l/");
    const r = await run();
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe("string");
    const after = await call("GET", "/registers?prefix=l/");
    expect(after.body.registers).toEqual(before.body.registers);
  });

  it("answers 429 QUEUE_FULL with Retry-After when a register's queue is full", async () => {
    await put({ name: "q/full", value: 0 });
    for (let i = 0; i < 3; i++) expect((await call("PUT", "/consumer", { name: "q/full", value: i })).status).toBe(202);
    const r = await call("PUT", "/consumer", { name: "q/full", value: 99 });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe("QUEUE_FULL");
    expect(r.headers.get("retry-after")).toBe("1");
    const pending = await call("GET", "/provider?name=q/full&wait=0");
    expect(pending.body.requests.map((q: any) => q.value)).toEqual([0, 1, 2]);
  });
});

describe("listing, events and operations", () => {
  it("pages through registers with a cursor", async () => {
    await put({
      registers: Array.from({ length: 25 }, (_, i) => ({ name: `page/${String(i).padStart(2, "0")}`, value: i })),
    });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await call("GET", `/registers?prefix=page/&limit=10${cursor ? `&cursor=${cursor}` : ""}`);
      names.push(...r.body.registers.map((x: any) => x.name));
      cursor = r.body.cursor;
    } while (cursor);
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `page/${String(i).padStart(2, "0")}`));
  });

  it("streams events over SSE and resumes from Last-Event-ID", async () => {
    const first = await put({ name: "sse/a", value: 1 });
    const from = first.body.index as number;
    await put({ name: "sse/a", value: 2 });
    await put({ name: "other/z", value: 0 });
    await put({ name: "sse/b", value: 3 });
    const ac = new AbortController();
    const res = await fetch(`${url}/events?prefix=sse/`, {
      headers: { "Last-Event-ID": String(from) },
      signal: ac.signal,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    const events: any[] = [];
    const live = put({ name: "sse/a", value: 4 });
    while (events.length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = chunk.split("\n").find((l) => l.startsWith("data:"));
        const id = chunk.split("\n").find((l) => l.startsWith("id:"));
        if (data) events.push({ id: Number(id?.slice(3)), ...JSON.parse(data.slice(5)) });
      }
    }
    await live;
    ac.abort();
    expect(events.map((e) => [e.name, e.register.value])).toEqual([
      ["sse/a", 2],
      ["sse/b", 3],
      ["sse/a", 4],
    ]);
    expect(events.every((e, i) => i === 0 || e.id > events[i - 1].id)).toBe(true);
    expect(events[0].id).toBeGreaterThan(from);
  });

  it("serves healthz, readyz, metrics and the OpenAPI document", async () => {
    expect((await call("GET", "/healthz")).body).toEqual({ status: "ok" });
    const ready = await call("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.storage).toBe("file");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain("switchboard_long_poll_wake_seconds_bucket");
    expect(metrics).toContain("switchboard_requests_queued");
    const api = await call("GET", "/openapi.json");
    expect(Object.keys(api.body.paths)).toEqual(
      expect.arrayContaining(["/provider", "/consumer", "/registers", "/events"]),
    );
  });
});
