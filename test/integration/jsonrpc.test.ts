// The Plexus JSON-RPC dialect over a real WebSocket: both call styles, every JSON-RPC error, limits, keep-alive, watch.

import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../helpers/fake-clock.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

let srv: TestServer;
let url: string;

function wsUrl(s: TestServer): string {
  const l = s.server.listeners.find((x) => x.protocol === "jsonrpc");
  if (!l) throw new Error("no jsonrpc listener");
  return `ws://127.0.0.1:${l.port}/`;
}

beforeAll(async () => {
  srv = await startTestServer({ dataDir: ":memory:" });
  url = wsUrl(srv);
});
afterAll(async () => {
  await srv.dispose();
});

const backendShape = {
  id: expect.stringMatching(/^[0-9a-f-]{36}$/),
  is_active: true,
  registered_at: expect.any(Number),
  created_at: expect.any(Number),
  updated_at: expect.any(Number),
};

describe("direct style (the seed's websocat session)", () => {
  it("lists, registers, gets, updates, pings, deletes and reloads with plain results", async () => {
    const c = await WsClient.connect(url);
    expect(await c.call("registry.list", { active_only: true })).toEqual({ type: "backends", backends: [] });

    const reg = await c.call("registry.register", { name: "test", host: "127.0.0.1", port: 8888 });
    expect(reg).toEqual({
      type: "backend_registered",
      backend: { ...backendShape, name: "test", host: "127.0.0.1", port: 8888, protocol: "ws", source: "manual" },
    });
    // Optional fields that were not given are omitted, not null.
    expect(Object.keys(reg.backend)).not.toContain("description");
    expect(Object.keys(reg.backend)).not.toContain("last_seen");

    const got = await c.call("registry.get", { name: "test" });
    expect(got).toEqual({ type: "backend", backend: reg.backend });

    const upd = await c.call("registry.update", { name: "test", host: "192.168.1.101", description: "dev box" });
    expect(upd).toEqual({
      type: "backend_updated",
      backend: { ...reg.backend, host: "192.168.1.101", description: "dev box", updated_at: expect.any(Number) },
    });

    expect(await c.call("registry.ping", { name: "test" })).toEqual({
      type: "ping",
      name: "test",
      success: true,
      message: "Backend health check updated",
    });
    expect((await c.call("registry.get", { name: "test" })).backend.last_seen).toEqual(expect.any(Number));

    const listed = await c.call("registry.list", {});
    expect(listed.backends.map((b: { name: string }) => b.name)).toEqual(["test"]);

    expect(await c.call("registry.delete", { name: "test" })).toEqual({ type: "backend_deleted", name: "test" });
    expect(await c.call("registry.get", { name: "test" })).toEqual({ type: "backend", backend: null });
    // No file configured in this server: nothing to load.
    expect(await c.call("registry.reload", {})).toEqual({ type: "reloaded", count: 0 });
    await c.close();
  });

  it("stores backends as registers, visible over REST", async () => {
    const c = await WsClient.connect(url);
    await c.call("registry.register", { name: "rest-visible", host: "10.0.0.1", port: 4444, namespace: "lab" });
    const res = (await (await fetch(`${srv.url}/consumer?name=backends/rest-visible`)).json()) as any;
    expect(res.registers[0]).toMatchObject({
      name: "backends/rest-visible",
      found: true,
      value: { name: "rest-visible", host: "10.0.0.1", port: 4444, namespace: "lab", source: "manual" },
    });
    await c.call("registry.delete", { name: "rest-visible" });
    await c.close();
  });

  it("answers domain failures with -32000 and the Plexus message", async () => {
    const c = await WsClient.connect(url);
    expect((await c.request("registry.update", { name: "ghost", port: 1 })).error).toEqual({
      code: -32000,
      message: "Backend not found: ghost",
      data: { code: "BACKEND_NOT_FOUND", details: { name: "ghost" } },
    });
    expect((await c.request("registry.delete", { name: "ghost" })).error).toMatchObject({
      code: -32000,
      message: "Backend not found: ghost",
    });
    expect(await c.call("registry.ping", { name: "ghost" })).toEqual({
      type: "ping",
      name: "ghost",
      success: false,
      message: "Backend not found: ghost",
    });
    await c.call("registry.register", { name: "twice", host: "h", port: 1 });
    expect((await c.request("registry.register", { name: "twice", host: "h2", port: 2 })).error).toMatchObject({
      code: -32000,
      message: "Backend already exists: twice",
      data: { code: "BACKEND_EXISTS" },
    });
    expect((await c.call("registry.get", { name: "twice" })).backend.host).toBe("h");
    await c.call("registry.delete", { name: "twice" });
    await c.close();
  });

  it("takes positional params in declaration order, and null as absent", async () => {
    const c = await WsClient.connect(url);
    const r = await c.call("registry.register", ["pos", "127.0.0.2", 4000, "wss", null, "ns"]);
    expect(r.backend).toMatchObject({ name: "pos", host: "127.0.0.2", port: 4000, protocol: "wss", namespace: "ns" });
    expect(Object.keys(r.backend)).not.toContain("description");
    expect((await c.call("registry.get", ["pos"])).backend.name).toBe("pos");
    await c.call("registry.delete", ["pos"]);
    await c.close();
  });
});

describe("hub style (what Plexus clients send)", () => {
  it("answers _info, then each registry-hub.call as a subscription of data and done items", async () => {
    const c = await WsClient.connect(url);
    const info = await c.call("_info");
    expect(info).toMatchObject({
      backend: "registry-hub",
      activations: [expect.objectContaining({ namespace: "registry" })],
    });

    const metadata = {
      provenance: ["registry"],
      plexus_hash: expect.stringMatching(/^[0-9a-f]{16}$/),
      timestamp: expect.any(Number),
    };
    const reg = await c.hubCall("registry-hub", "registry.register", { name: "hub1", host: "127.0.0.1", port: 4444 });
    expect(reg.subscription).toEqual(expect.any(Number));
    expect(reg.items).toEqual([
      {
        type: "data",
        metadata,
        content_type: "registry.register",
        content: { type: "backend_registered", backend: expect.objectContaining({ name: "hub1", source: "manual" }) },
      },
      { type: "done", metadata },
    ]);
    // The notifications are the hub's subscription frames.
    const frame = c.received.find((m) => m.params?.subscription === reg.subscription);
    expect(frame).toMatchObject({ jsonrpc: "2.0", method: "result" });

    const calls: [string, unknown, unknown][] = [
      [
        "registry.list",
        { active_only: true },
        { type: "backends", backends: [expect.objectContaining({ name: "hub1" })] },
      ],
      ["registry.get", { name: "hub1" }, { type: "backend", backend: expect.objectContaining({ name: "hub1" }) }],
      [
        "registry.update",
        { name: "hub1", port: 4446 },
        { type: "backend_updated", backend: expect.objectContaining({ port: 4446 }) },
      ],
      ["registry.ping", { name: "hub1" }, expect.objectContaining({ type: "ping", success: true })],
      ["registry.delete", { name: "hub1" }, { type: "backend_deleted", name: "hub1" }],
      ["registry.reload", {}, { type: "reloaded", count: 0 }],
      ["registry.get", { name: "hub1" }, { type: "backend", backend: null }],
    ];
    for (const [method, params, content] of calls) {
      const { items } = await c.hubCall("registry-hub", method, params);
      expect(items, method).toEqual([
        { type: "data", metadata, content_type: method, content },
        { type: "done", metadata },
      ]);
    }
    await c.close();
  });

  it("serves the schema hub clients fetch before calling: the hub with its child, the registry with its methods", async () => {
    const c = await WsClient.connect(url);
    const root = await c.hubCall("registry-hub", "registry-hub.schema");
    expect(root.items[0]).toMatchObject({
      type: "data",
      content_type: "registry-hub.schema",
      content: {
        namespace: "registry-hub",
        methods: [],
        children: [{ namespace: "registry", hash: expect.any(String) }],
      },
    });
    const registry = (await c.hubCall("registry-hub", "registry.schema")).items[0];
    expect(registry.content_type).toBe("registry.schema");
    expect(registry.content.methods.map((m: { name: string }) => m.name)).toEqual([
      "register",
      "list",
      "get",
      "update",
      "delete",
      "ping",
      "reload",
      "watch",
    ]);
    const one = (await c.hubCall("registry-hub", "registry.schema", { method: "register" })).items[0].content;
    expect(one).toMatchObject({ name: "register", streaming: false, params: { required: ["name", "host", "port"] } });
    const hash = (await c.hubCall("registry-hub", "registry.hash")).items[0];
    expect(hash).toMatchObject({ content_type: "registry.hash", content: { hash: registry.content.hash } });
    const none = await c.hubCall("registry-hub", "registry.schema", { method: "fly" });
    expect(none.items[0]).toMatchObject({ type: "error", code: "INVALID_PARAMS" });
    await c.close();
  });

  it("takes a method path that names the hub first, and runs an id-less call for its effect only", async () => {
    const c = await WsClient.connect(url);
    const { items } = await c.hubCall("registry-hub", "registry-hub.registry.list", { active_only: false });
    expect(items[0]).toMatchObject({ type: "data", content_type: "registry.list", content: { type: "backends" } });
    const before = c.received.length;
    c.send({
      jsonrpc: "2.0",
      method: "registry-hub.call",
      params: { method: "registry.register", params: { name: "quiet", host: "h", port: 1 } },
    });
    const got = await c.request("registry.get", { name: "quiet" });
    expect(got.result.backend).toMatchObject({ name: "quiet" });
    expect(c.received.slice(before)).toEqual([got]);
    await c.call("registry.delete", { name: "quiet" });
    await c.close();
  });

  it("streams failures as an error item then done", async () => {
    const c = await WsClient.connect(url);
    const notFound = await c.hubCall("registry-hub", "registry.delete", { name: "ghost" });
    expect(notFound.items.map((i) => i.type)).toEqual(["error", "done"]);
    expect(notFound.items[0]).toMatchObject({
      message: "Backend not found: ghost",
      code: "BACKEND_NOT_FOUND",
      recoverable: false,
    });
    const badParams = await c.hubCall("registry-hub", "registry.register", { name: "x", port: "4444" });
    expect(badParams.items[0]).toMatchObject({ type: "error", code: "INVALID_PARAMS" });
    expect(badParams.items[0].message).toMatch(/host/);
    expect(badParams.items[0].message).toMatch(/port/);
    const unknown = await c.hubCall("registry-hub", "registry.nope", {});
    expect(unknown.items[0]).toMatchObject({ type: "error", code: "METHOD_NOT_FOUND" });
    // The outer call's own params are checked as JSON-RPC params.
    expect((await c.request("registry-hub.call", { params: {} })).error).toMatchObject({ code: -32602 });
    await c.close();
  });
});

describe("JSON-RPC 2.0 errors", () => {
  let c: WsClient;
  beforeAll(async () => {
    c = await WsClient.connect(url);
  });
  afterAll(async () => {
    await c.close();
  });

  it("answers invalid JSON with -32700 and id null", async () => {
    const before = c.received.length;
    c.sendRaw('{"jsonrpc":"2.0","id":1,"method":"registry.list"');
    const m = await c.next((x) => c.received.indexOf(x) >= before);
    expect(m).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
  });

  it.each([
    ["a number", "42", null],
    ["no jsonrpc member", '{"id":7,"method":"registry.list"}', 7],
    ["jsonrpc 1.0", '{"jsonrpc":"1.0","id":8,"method":"registry.list"}', 8],
    ["a method that is not a string", '{"jsonrpc":"2.0","id":9,"method":5}', 9],
    ["params that are a string", '{"jsonrpc":"2.0","id":10,"method":"registry.list","params":"x"}', 10],
    ["an id that is an object", '{"jsonrpc":"2.0","id":{"a":1},"method":"registry.list"}', null],
    ["an empty batch", "[]", null],
  ])("answers %s with -32600", async (_what, frame, id) => {
    const before = c.received.length;
    c.sendRaw(frame);
    const m = await c.next((x) => c.received.indexOf(x) >= before);
    expect(m).toMatchObject({ jsonrpc: "2.0", id, error: { code: -32600 } });
  });

  it("answers an unknown method with -32601", async () => {
    expect((await c.request("registry.fly", {})).error).toEqual({
      code: -32601,
      message: "Method not found",
      data: { method: "registry.fly" },
    });
    expect((await c.request("nothing", {})).error.code).toBe(-32601);
  });

  it("answers bad params with -32602 naming each field", async () => {
    const r = await c.request("registry.register", { name: "bad name!", host: "", port: 70000 });
    expect(r.error.code).toBe(-32602);
    expect(r.error.message).toMatch(/^Invalid params: /);
    expect(r.error.data.code).toBe("INVALID_BODY");
    expect(r.error.data.details.map((d: { path: string }) => d.path).sort()).toEqual(["host", "name", "port"]);
    expect((await c.request("registry.list", { active_only: "yes" })).error.data.details[0].path).toBe("active_only");
    expect((await c.request("registry.get", ["a", "b"])).error.code).toBe(-32602);
    expect((await c.request("registry.watch", { prefix: "no spaces" })).error).toMatchObject({
      code: -32602,
      data: { code: "INVALID_PREFIX" },
    });
  });

  it("answers a batch with an array, leaving out notifications; a batch of notifications gets nothing", async () => {
    c.sendRaw(
      JSON.stringify([
        { jsonrpc: "2.0", id: "b1", method: "registry.list", params: {} },
        { jsonrpc: "2.0", method: "registry.register", params: { name: "note", host: "h", port: 1 } },
        { jsonrpc: "2.0", id: "b2", method: "registry.nope" },
        { nonsense: true },
        { jsonrpc: "2.0", id: "b3", method: "registry.get", params: { name: "note" } },
      ]),
    );
    const batch = await c.next((m) => Array.isArray(m));
    expect(batch).toEqual([
      { jsonrpc: "2.0", id: "b1", result: { type: "backends", backends: expect.any(Array) } },
      { jsonrpc: "2.0", id: "b2", error: expect.objectContaining({ code: -32601 }) },
      { jsonrpc: "2.0", id: null, error: expect.objectContaining({ code: -32600 }) },
      // Run in order: the notification's registration is visible to the entry after it.
      { jsonrpc: "2.0", id: "b3", result: { type: "backend", backend: expect.objectContaining({ name: "note" }) } },
    ]);

    const before = c.received.length;
    c.sendRaw(JSON.stringify([{ jsonrpc: "2.0", method: "registry.delete", params: { name: "note" } }]));
    // Frames are handled in order: the answer to this request is the next message, with nothing before it.
    const after = await c.request("registry.get", { name: "note" });
    expect(c.received.slice(before)).toEqual([after]);
    expect(after.result.backend).toBeNull();
  });

  it("refuses a batch larger than 100 entries as one -32600", async () => {
    const before = c.received.length;
    c.send(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "registry.list" })));
    const m = await c.next((x) => c.received.indexOf(x) >= before);
    expect(m).toMatchObject({ id: null, error: { code: -32600, data: { limit: 100 } } });
  });

  it("counts error answers in the metrics by code", async () => {
    expect(
      await metricValue(srv.url, "switchboard_protocol_errors_total", { protocol: "jsonrpc", code: "PARSE_ERROR" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(srv.url, "switchboard_protocol_operations_total", {
        protocol: "jsonrpc",
        operation: "registry.list",
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe("limits and connections", () => {
  it("closes a connection that sends a frame over the size cap (1009), and keeps serving others", async () => {
    const s = await startTestServer({ dataDir: ":memory:", config: { jsonrpcMaxMessageBytes: 4096 } });
    try {
      const big = await WsClient.connect(wsUrl(s));
      const other = await WsClient.connect(wsUrl(s));
      big.sendRaw(
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "registry.list", params: { pad: "x".repeat(5000) } }),
      );
      expect((await big.closed).code).toBe(1009);
      expect(await other.call("registry.list", {})).toEqual({ type: "backends", backends: [] });
      await other.close();
    } finally {
      await s.dispose();
    }
  });

  it("caps messages per second per connection with RATE_LIMITED, and lets them through again as time passes", async () => {
    const clock = new FakeClock();
    const s = await startTestServer({ dataDir: ":memory:", clock, config: { jsonrpcRateLimit: 5 } });
    try {
      const c = await WsClient.connect(wsUrl(s));
      c.send(Array.from({ length: 8 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "registry.list" })));
      const batch = await c.next((m) => Array.isArray(m));
      expect(batch.filter((r: any) => "result" in r)).toHaveLength(5);
      const limited = batch.filter((r: any) => r.error);
      expect(limited).toHaveLength(3);
      expect(limited[0].error).toMatchObject({ code: -32000, data: { code: "RATE_LIMITED", retryAfter: 1 } });
      // Another connection has its own budget.
      const other = await WsClient.connect(wsUrl(s));
      expect((await other.request("registry.list")).result).toBeDefined();
      clock.advance(1000);
      expect((await c.request("registry.list")).result).toBeDefined();
      await c.close();
      await other.close();
    } finally {
      await s.dispose();
    }
  });

  it("pings clients and drops one that does not answer with a pong", async () => {
    const s = await startTestServer({ dataDir: ":memory:", config: { jsonrpcPingInterval: "40ms" } });
    try {
      const mute = await WsClient.connect(wsUrl(s), { autoPong: false });
      const live = await WsClient.connect(wsUrl(s));
      let pings = 0;
      const pinged = new Promise<void>((resolve) =>
        live.ws.on("ping", () => {
          if (++pings === 3) resolve();
        }),
      );
      // Terminated without a close frame: the client sees 1006.
      expect((await mute.closed).code).toBe(1006);
      await pinged;
      expect(live.ws.readyState).toBe(live.ws.OPEN);
      await live.close();
    } finally {
      await s.dispose();
    }
  });

  it("serves the same dialect on the HTTP port at /jsonrpc, and refuses other upgrade paths", async () => {
    const c = await WsClient.connect(`${srv.url.replace("http", "ws")}/jsonrpc`);
    expect((await c.call("_info")).backend).toBe("registry-hub");
    await c.close();
    await expect(WsClient.connect(`${srv.url.replace("http", "ws")}/elsewhere`)).rejects.toThrow(/404/);
  });

  it("appears in /status, answers plain HTTP on its port with 426, and can be turned off", async () => {
    const status = (await (await fetch(`${srv.url}/status`)).json()) as any;
    expect(status.listeners).toContainEqual(expect.objectContaining({ protocol: "jsonrpc", transport: "ws" }));
    const res = await fetch(url.replace("ws", "http"));
    expect(res.status).toBe(426);
    const off = await startTestServer({ dataDir: ":memory:", config: { jsonrpcPort: "off", jsonrpcPath: "off" } });
    try {
      expect(off.server.listeners.map((l) => l.protocol)).not.toContain("jsonrpc");
    } finally {
      await off.dispose();
    }
  });

  it("closes every client with 1001 on shutdown, on both endpoints, watches included", async () => {
    const s = await startTestServer({ dataDir: ":memory:" });
    const own = await WsClient.connect(wsUrl(s));
    const onHttp = await WsClient.connect(`${s.url.replace("http", "ws")}/jsonrpc`);
    await own.call("registry.watch", {});
    await onHttp.call("registry-hub.call", { method: "registry.watch", params: {} });
    await s.dispose();
    expect((await own.closed).code).toBe(1001);
    expect((await onHttp.closed).code).toBe(1001);
  });

  it("holds at most 64 watches per connection", async () => {
    const c = await WsClient.connect(url);
    for (let i = 0; i < 64; i++) await c.call("registry.watch", { prefix: `backends/cap-${i}` });
    const r = await c.request("registry.watch", { prefix: "backends/cap-x" });
    expect(r.error).toMatchObject({ code: -32000, data: { code: "TOO_MANY_WAITERS" } });
    await c.close();
  });

  it("fails to start with an error naming --jsonrpc-port when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startTestServer({ dataDir: ":memory:", config: { jsonrpcPort: port } })).rejects.toThrow(
        /--jsonrpc-port .*EADDRINUSE/,
      );
    } finally {
      blocker.close();
    }
  });
});

describe("registry.watch", () => {
  it("pushes backend changes as notifications in the direct style until unwatched", async () => {
    const c = await WsClient.connect(url);
    const writer = await WsClient.connect(url);
    const sub = await c.call("registry.watch", { prefix: "backends/w-" });
    await writer.call("registry.register", { name: "w-one", host: "h", port: 1 });
    await writer.call("registry.register", { name: "other", host: "h", port: 1 });
    await writer.call("registry.delete", { name: "w-one" });
    const del = await c.next((m) => m.method === "registry.watch" && m.params.result.type === "delete");
    const changes = c.received.filter((m) => m.method === "registry.watch").map((m) => m.params);
    expect(changes).toEqual([
      {
        subscription: sub,
        result: expect.objectContaining({
          type: "set",
          name: "backends/w-one",
          value: expect.objectContaining({ host: "h" }),
        }),
      },
      del.params,
    ]);
    expect(await c.call("registry.unwatch", { subscription: sub })).toBe(true);
    expect(await c.call("registry.unwatch", { subscription: sub })).toBe(false);
    await writer.call("registry.delete", { name: "other" });
    await c.close();
    await writer.close();
  });

  it("replays changes after a given revision, and asks for a resync when that revision is unknown", async () => {
    const c = await WsClient.connect(url);
    const before = srv.server.core.revision;
    await c.call("registry.register", { name: "replayed", host: "h", port: 1 });
    const sub = await c.call("registry.watch", { prefix: "backends/replayed", after: before });
    const replay = await c.next((m) => m.method === "registry.watch" && m.params.subscription === sub);
    expect(replay.params.result).toMatchObject({ type: "set", name: "backends/replayed", revision: before + 1 });
    const ahead = await c.call("registry.watch", { prefix: "backends/replayed", after: before + 1_000_000 });
    const resync = await c.next((m) => m.method === "registry.watch" && m.params.subscription === ahead);
    expect(resync.params.result).toEqual({ type: "resync", index: srv.server.core.revision });
    await c.call("registry.delete", { name: "replayed" });
    await c.close();
  });

  it("streams changes as data items in the hub style", async () => {
    const c = await WsClient.connect(url);
    const sub = await c.call("registry-hub.call", { method: "registry.watch", params: { prefix: "backends/hw" } });
    await c.call("registry.register", { name: "hw", host: "h", port: 2 });
    const item = await c.next((m) => m.params?.subscription === sub && m.params.result.type === "data");
    expect(item.params.result).toMatchObject({
      content_type: "registry.watch",
      content: { type: "set", name: "backends/hw", version: 1 },
    });
    expect(await c.call("registry-hub.call_unsub", [sub])).toBe(true);
    await c.call("registry.delete", { name: "hw" });
    await c.close();
  });
});
