// The CGSE registry dialect over real ZeroMQ sockets (npm zeromq as the client): every action, its frames, messages and events.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CgseClient, type CgseClient as Client, cgseEndpoints } from "../helpers/cgse-client.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let client: Client;
const clock = new FakeClock();
const nowSeconds = () => Math.floor(clock.now() / 1000);

const rest = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

const register = (service_info: Record<string, unknown>, ttl?: number) =>
  client.request({ action: "register", service_info, ...(ttl === undefined ? {} : { ttl }) });

beforeAll(async () => {
  srv = await startTestServer({ clock, config: { sweepInterval: "1s" } });
  client = new CgseClient(cgseEndpoints(srv.server.listeners));
  // PUB drops what it sends before the subscription reaches it: probe until an event arrives.
  let i = 0;
  await client.subscribed(async () => {
    await rest("PUT", "/provider", { name: `services/probe/p${i++}`, value: { host: "h", port: 1 } });
  });
  await rest("DELETE", `/provider?${Array.from({ length: i }, (_, k) => `name=services/probe/p${k}`).join("&")}`);
});

afterAll(async () => {
  await client?.close();
  await srv?.dispose();
});

describe("register", () => {
  it("makes an id from the name, answers it, publishes register, and is a services/<type>/<id> register", async () => {
    const reply = await register(
      { name: "CM CS", host: "127.0.0.1", port: 6110, type: "CM_CS", metadata: { service_port: 6112 }, tags: [] },
      30,
    );
    expect(reply).toEqual({
      success: true,
      service_id: expect.any(String),
      message: "Service registered successfully",
    });
    const id: string = reply.service_id;
    expect(id).toMatch(/^cm-cs-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const event = await client.waitForEvent((e) => e.topic === "register" && e.body.data.service_id === id);
    expect(event.body).toEqual({
      type: "register",
      timestamp: nowSeconds(),
      data: {
        service_id: id,
        service_info: {
          name: "CM CS",
          host: "127.0.0.1",
          port: 6110,
          id,
          type: "CM_CS",
          metadata: { service_port: 6112, type: "CM_CS" },
          tags: ["CM_CS"],
        },
      },
    });

    const listed = await rest("GET", "/registers?prefix=services/CM_CS/");
    expect(listed.body.registers).toEqual([
      expect.objectContaining({
        name: `services/CM_CS/${id}`,
        value: { host: "127.0.0.1", port: 6110, name: "CM CS", tags: ["CM_CS"] },
        metadata: { service_port: 6112, type: "CM_CS", leaseMs: 30_000 },
      }),
    ]);

    expect(await client.request({ action: "get", service_id: id })).toEqual({
      success: true,
      service: {
        id,
        name: "CM CS",
        host: "127.0.0.1",
        port: 6110,
        metadata: { service_port: 6112, type: "CM_CS" },
        ttl: 30,
        last_heartbeat: nowSeconds(),
        tags: ["CM_CS"],
        health: "passing",
      },
    });
    expect(await client.request({ action: "deregister", service_id: id })).toMatchObject({ success: true });
  });

  it("updates an existing id in place (same register, new version) and a type change moves it", async () => {
    const first = await register({ name: "upd", id: "upd-1", host: "10.0.0.1", port: 1, type: "UPD_A" });
    expect(first.service_id).toBe("upd-1");
    const again = await register({ name: "upd", id: "upd-1", host: "10.0.0.2", port: 2, type: "UPD_A" });
    expect(again).toEqual({ success: true, service_id: "upd-1", message: "Service registered successfully" });
    const r = await rest("GET", "/consumer?name=services/UPD_A/upd-1");
    expect(r.body.registers[0]).toMatchObject({ version: 2, value: { host: "10.0.0.2", port: 2 } });

    await register({ name: "upd", id: "upd-1", host: "10.0.0.2", port: 2, type: "UPD_B" });
    const moved = await rest("GET", "/consumer?name=services/UPD_A/upd-1&name=services/UPD_B/upd-1");
    expect(moved.body.registers.map((x: any) => x.found)).toEqual([false, true]);
    expect((await client.request({ action: "get", service_id: "upd-1" })).service.metadata.type).toBe("UPD_B");
    await client.request({ action: "deregister", service_id: "upd-1" });
  });

  it("keeps one service per type unless allow_duplicate_service_type; singleton forces it when enforcement is off", async () => {
    await register({ name: "one", id: "uniq-1", host: "h", port: 1, type: "UNIQ" });
    const dup = await register({ name: "two", id: "uniq-2", host: "h", port: 2, type: "UNIQ" });
    expect(dup).toEqual({
      success: false,
      error: "duplicate_service_type",
      message: "Service type 'UNIQ' is already registered by service_id 'uniq-1'.",
      service_type: "UNIQ",
      existing_service_id: "uniq-1",
    });
    // The same id re-registering is an update, not a duplicate; a type in metadata counts like service_info.type.
    expect((await register({ name: "one", id: "uniq-1", host: "h", port: 3, type: "UNIQ" })).success).toBe(true);
    const viaMetadata = await register({ name: "three", id: "uniq-3", host: "h", port: 4, metadata: { type: "UNIQ" } });
    expect(viaMetadata).toMatchObject({ success: false, error: "duplicate_service_type" });
    const allowed = await register({
      name: "two",
      id: "uniq-2",
      host: "h",
      port: 2,
      type: "UNIQ",
      allow_duplicate_service_type: true,
    });
    expect(allowed).toMatchObject({ success: true, service_id: "uniq-2" });
    expect(
      await register({
        name: "x",
        host: "h",
        port: 1,
        type: "UNIQ",
        singleton: true,
        allow_duplicate_service_type: true,
      }),
    ).toEqual({
      success: false,
      error: "invalid_service_type_policy",
      message: "singleton and allow_duplicate_service_type cannot both be true.",
    });
    const info = await client.request({ action: "info" });
    expect(info.enforce_unique_service_types).toBe(true);
    for (const id of ["uniq-1", "uniq-2"]) await client.request({ action: "deregister", service_id: id });
  });

  it("honours REQ_NO_REPLY: the action runs and nothing is answered", async () => {
    await client.sendRaw([
      "REQ_NO_REPLY",
      JSON.stringify({ action: "register", service_info: { name: "quiet", id: "quiet-1", host: "h", port: 9 } }),
    ]);
    await client.waitForEvent((e) => e.topic === "register" && e.body.data.service_id === "quiet-1");
    // The next reply on the socket belongs to the next REQ: the no-reply request got none.
    expect(await client.request({ action: "health" })).toEqual({
      success: true,
      status: "ok",
      timestamp: nowSeconds(),
    });
    expect((await client.request({ action: "get", service_id: "quiet-1" })).service.metadata).toEqual({});
    await client.request({ action: "deregister", service_id: "quiet-1" });
  });

  it("runs one peer's requests in order: a no-reply deregister is not overtaken by the next request", async () => {
    const body = (action: string) =>
      JSON.stringify({ action, service_id: "order-1", service_info: { name: "o", id: "order-1", host: "h", port: 1 } });
    await client.sendRaw(["REQ_NO_REPLY", body("register")]);
    await client.sendRaw(["REQ_NO_REPLY", body("deregister")]);
    expect(await client.request({ action: "get", service_id: "order-1" })).toEqual({
      success: false,
      error: "Service not found",
    });
    await client.waitForEvent((e) => e.topic === "deregister" && e.body.data.service_id === "order-1");
  });
});

describe("heartbeats and expiry", () => {
  it("keeps a service past its TTL while it beats, then expires it with an expire event", async () => {
    const { service_id: id } = await register({ name: "beat", host: "h", port: 5, type: "BEAT" }, 3);
    const registeredAt = nowSeconds();
    for (let i = 0; i < 4; i++) {
      clock.advance(2000);
      expect(await client.heartbeat(id)).toEqual({ success: true, message: "Service renewed successfully" });
    }
    // 8 s after registering with a 3 s TTL it is still there, beaten 0 s ago.
    const alive = await client.request({ action: "get", service_id: id });
    expect(alive.service).toMatchObject({ health: "passing", ttl: 3, last_heartbeat: registeredAt + 8 });
    // Renewals are not changes: no register event, one register revision.
    expect(client.events.filter((e) => e.body.data.service_id === id).map((e) => e.topic)).toEqual(["register"]);

    // Each sweep runs when its timer fires and schedules the next one once it has committed.
    const isExpiry = (e: { topic: string; body: { data: any } }) =>
      e.topic === "expire" && e.body.data.service_id === id;
    for (let i = 0; i < 10 && !client.events.some(isExpiry); i++) {
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const expired = await client.waitForEvent(isExpiry);
    // Not before the last beat (at 8 s) plus the 3 s TTL.
    expect(clock.now() - registeredAt * 1000).toBeGreaterThanOrEqual(11_000);
    expect(expired.body).toEqual({ type: "expire", timestamp: expect.any(Number), data: { service_id: id } });
    expect(await client.request({ action: "get", service_id: id })).toEqual({
      success: false,
      error: "Service not found",
    });
    expect(await client.heartbeat(id)).toEqual({
      success: false,
      error: "Service not found or could not be renewed",
    });
    // The client's recovery: re-register with the same id.
    const back = await register({ name: "beat", id, host: "h", port: 5, type: "BEAT" }, 3);
    expect(back).toMatchObject({ success: true, service_id: id });
    await client.request({ action: "deregister", service_id: id });
  });

  it("shows a lapsed, not yet swept service as critical, and discover skips it", async () => {
    // A server whose sweep runs once a minute: 3 s after registering with a 2 s TTL, the record is still there.
    const slowClock = new FakeClock();
    const slow = await startTestServer({ clock: slowClock, config: { sweepInterval: "60s" } });
    const c = new CgseClient(cgseEndpoints(slow.server.listeners));
    try {
      const { service_id: id } = await c.request({
        action: "register",
        service_info: { name: "lapse", host: "h", port: 6, type: "LAPSE" },
        ttl: 2,
      });
      expect((await c.request({ action: "discover", service_type: "LAPSE" })).service.id).toBe(id);
      slowClock.advance(3000);
      const listed = await c.request({ action: "list", service_type: "LAPSE" });
      expect(listed.services).toEqual([expect.objectContaining({ id, health: "critical" })]);
      expect(await c.request({ action: "discover", service_type: "LAPSE" })).toEqual({
        success: false,
        error: "No healthy service of type LAPSE found",
      });
      // A lapsed registration does not hold its type: another service may take it.
      const other = await c.request({
        action: "register",
        service_info: { name: "lapse2", host: "h", port: 7, type: "LAPSE" },
      });
      expect(other.success).toBe(true);
    } finally {
      await c.close();
      await slow.dispose();
    }
  });
});

describe("lookups", () => {
  it("lists by type (tags or metadata.type), discovers a random passing one, and says when there is none", async () => {
    const ids: string[] = [];
    for (const [i, type] of ["LB", "LB", "OTHER"].entries()) {
      const r = await register({
        name: `lb${i}`,
        host: "h",
        port: 100 + i,
        type,
        allow_duplicate_service_type: true,
        tags: ["shared"],
      });
      ids.push(r.service_id);
    }
    const lb = await client.request({ action: "list", service_type: "LB" });
    expect(lb.success).toBe(true);
    expect(lb.services.map((s: any) => s.id).sort()).toEqual(ids.slice(0, 2).sort());
    const byTag = await client.request({ action: "list", service_type: "shared" });
    expect(byTag.services).toHaveLength(3);
    const all = await client.request({ action: "list" });
    expect(all.services.map((s: any) => s.id)).toEqual(expect.arrayContaining(ids));

    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const d = await client.request({ action: "discover", service_type: "LB" });
      expect(d.success).toBe(true);
      expect(d.service).toMatchObject({ health: "passing", host: "h" });
      seen.add(d.service.id);
    }
    // Random among the passing ones: 40 draws from two miss one with probability 2^-39.
    expect([...seen].sort()).toEqual(ids.slice(0, 2).sort());
    expect(await client.request({ action: "discover", service_type: "NOPE" })).toEqual({
      success: false,
      error: "No healthy service of type NOPE found",
    });
    for (const id of ids) {
      expect(await client.request({ action: "deregister", service_id: id })).toEqual({
        success: true,
        message: "Service deregistered successfully",
      });
    }
    expect((await client.request({ action: "list", service_type: "LB" })).services).toEqual([]);
  });

  it("deregisters with a deregister event carrying the record, then says the service is gone", async () => {
    const { service_id: id } = await register({ name: "bye", host: "h", port: 7, type: "BYE" }, 10);
    expect(await client.request({ action: "deregister", service_id: id })).toEqual({
      success: true,
      message: "Service deregistered successfully",
    });
    const e = await client.waitForEvent((x) => x.topic === "deregister" && x.body.data.service_id === id);
    expect(e.body.data.service_info).toEqual({
      id,
      name: "bye",
      host: "h",
      port: 7,
      metadata: { type: "BYE" },
      ttl: 10,
      last_heartbeat: nowSeconds(),
      tags: ["BYE"],
      health: "passing",
    });
    expect(await client.request({ action: "deregister", service_id: id })).toEqual({
      success: false,
      error: "Service not found or could not be deregistered",
    });
    expect(await client.request({ action: "renew", service_id: id })).toEqual({
      success: false,
      error: "Service not found or could not be renewed",
    });
  });

  it("answers health, info with the bound ports, and refuses terminate by default", async () => {
    expect(await client.request({ action: "health" })).toEqual({
      success: true,
      status: "ok",
      timestamp: nowSeconds(),
    });
    const port = (p: string) => srv.server.listeners.find((l) => l.protocol === p)!.port;
    const info = await client.request({ action: "info" });
    expect(info).toEqual({
      success: true,
      status: "ok",
      req_port: port("zmq-req"),
      pub_port: port("zmq-pub"),
      hb_port: port("zmq-hb"),
      enforce_unique_service_types: true,
      services: expect.any(Array),
    });
    const t = await client.request({ action: "terminate" });
    expect(t).toEqual({ success: false, error: expect.stringContaining("--zmq-allow-terminate") });
    expect((await rest("GET", "/healthz")).status).toBe(200);
  });
});

describe("errors", () => {
  it("answers every malformed request with CGSE's message", async () => {
    const cases: [unknown, string][] = [
      ["{not json", "Invalid JSON format"],
      ["[1,2]", "Invalid JSON format"],
      [{}, "Missing required field: action"],
      [{ action: "" }, "Missing required field: action"],
      [{ action: "fly" }, "Unknown action: fly"],
      [{ action: "register" }, "Missing required field: service_info"],
      [{ action: "register", service_info: { host: "h", port: 1 } }, "Missing required field in service_info: name"],
      [{ action: "register", service_info: { name: "n", port: 1 } }, "Missing required field in service_info: host"],
      [{ action: "register", service_info: { name: "n", host: "h" } }, "Missing required field in service_info: port"],
      [{ action: "deregister" }, "Missing required field: service_id"],
      [{ action: "renew" }, "Missing required field: service_id"],
      [{ action: "get" }, "Missing required field: service_id"],
      [{ action: "get", service_id: "nobody" }, "Service not found"],
      [{ action: "discover" }, "Missing required field: service_type"],
    ];
    for (const [body, error] of cases) {
      expect(await client.request(body), JSON.stringify(body)).toEqual({ success: false, error });
    }
    // Label values are the known actions only: what a client makes up is counted as "unknown".
    const ops = (operation: string) =>
      metricValue(srv.url, "switchboard_protocol_operations_total", { protocol: "zmq", operation });
    expect(await ops("fly")).toBeNaN();
    expect(await ops("unknown")).toBeGreaterThanOrEqual(3);
    expect(await ops("register")).toBeGreaterThan(0);
  });

  it("refuses what discovery cannot hold with a message, and applies nothing", async () => {
    const before = (await rest("GET", "/registers?prefix=services/")).body.registers.length;
    const bad: [Record<string, unknown>, number | undefined, RegExp][] = [
      [{ name: "n", host: "h", port: "80" }, undefined, /^Invalid field in service_info: port/],
      [{ name: "n", host: "h", port: 1, id: "has space" }, undefined, /^Invalid service id/],
      [{ name: "n", host: "h", port: 1, type: "a/b" }, undefined, /^Invalid service type/],
      [{ name: "n", host: "h", port: 1, tags: "x" }, undefined, /^Invalid field in service_info: tags/],
      [{ name: "n", host: "h", port: 1 }, -1, /^Invalid ttl/],
      [{ name: "n", host: "h", port: 1, metadata: { big: "x".repeat(20_000) } }, undefined, /^Failed to register/],
    ];
    for (const [info, ttl, error] of bad) {
      const reply = await register(info, ttl);
      expect(reply.success, JSON.stringify(info)).toBe(false);
      expect(reply.error).toMatch(error);
    }
    expect((await rest("GET", "/registers?prefix=services/")).body.registers).toHaveLength(before);
  });
});

describe("across dialects", () => {
  it("sees services registered over REST, and publishes their register and deregister", async () => {
    await rest("PUT", "/provider", { name: "services/web/w1", value: { host: "10.1.1.1", port: 80 }, ttl: "20s" });
    const e = await client.waitForEvent((x) => x.topic === "register" && x.body.data.service_id === "w1");
    expect(e.body.data.service_info).toEqual({
      name: "w1",
      host: "10.1.1.1",
      port: 80,
      id: "w1",
      type: "web",
      metadata: {},
      tags: [],
    });
    const d = await client.request({ action: "discover", service_type: "web" });
    expect(d.service).toMatchObject({ id: "w1", host: "10.1.1.1", port: 80, ttl: 20, health: "passing" });
    expect(await client.heartbeat("w1")).toMatchObject({ success: true });
    await rest("DELETE", "/provider?name=services/web/w1");
    const gone = await client.waitForEvent((x) => x.topic === "deregister" && x.body.data.service_id === "w1");
    expect(gone.body.data.service_info).toEqual({ id: "w1", type: "web" });
  });

  it("wakes REST long-polls on services/ with its registrations, deregistrations and expiries", async () => {
    const poll = async (index: number) =>
      (await rest("GET", `/consumer?prefix=services/POLL/&index=${index}&wait=10s`)).body as {
        index: number;
        registers: { name: string; found: boolean; value?: unknown }[];
      };
    const start = (await rest("GET", "/consumer?prefix=services/POLL/")).body.index as number;
    const woken = poll(start);
    const { service_id: id } = await register({ name: "poll", host: "h", port: 3, type: "POLL" }, 2);
    const first = await woken;
    expect(first.registers).toEqual([
      expect.objectContaining({
        name: `services/POLL/${id}`,
        found: true,
        value: expect.objectContaining({ port: 3 }),
      }),
    ]);
    // A renewal changes nothing: a poll from here is woken by the deregistration, not by the beat.
    const second = poll(first.index);
    expect(await client.heartbeat(id)).toMatchObject({ success: true });
    await client.request({ action: "deregister", service_id: id });
    expect((await second).registers).toEqual([{ name: `services/POLL/${id}`, found: false }]);

    const again = await register({ name: "poll", id, host: "h", port: 3, type: "POLL" }, 2);
    expect(again.success).toBe(true);
    const third = poll((await rest("GET", "/consumer?prefix=services/POLL/")).body.index);
    for (let i = 0; i < 10 && !client.events.some((e) => e.topic === "expire" && e.body.data.service_id === id); i++) {
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await third).registers).toEqual([{ name: `services/POLL/${id}`, found: false }]);
  });
});

describe("ports", () => {
  it("lists its three sockets in /status; off binds nothing; a port in use is a start-up error naming the flag", async () => {
    const status = await rest("GET", "/status");
    expect(status.body.listeners.map((l: any) => l.protocol)).toEqual(
      expect.arrayContaining(["zmq-req", "zmq-pub", "zmq-hb"]),
    );
    const off = await startTestServer({
      dataDir: ":memory:",
      config: { zmqReqPort: "off", zmqPubPort: "off", zmqHbPort: "off" },
    });
    try {
      expect(off.server.listeners.map((l) => l.protocol)).toEqual(["http"]);
    } finally {
      await off.dispose();
    }
    const taken = srv.server.listeners.find((l) => l.protocol === "zmq-hb")!.port;
    await expect(startTestServer({ dataDir: ":memory:", config: { zmqHbPort: taken } })).rejects.toMatchObject({
      code: "LISTEN_FAILED",
      message: `cannot listen on 127.0.0.1:${taken} (--zmq-hb-port): the address is already in use`,
    });
  });
});

describe("terminate", () => {
  it("stops the whole server gracefully when --zmq-allow-terminate is on", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/child-server.ts", ":memory:"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, SWITCHBOARD_ZMQ_ALLOW_TERMINATE: "true" },
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const c = await (async () => {
      const line = await new Promise<string>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
        createInterface({ input: child.stdout! }).once("line", resolve);
      });
      const url = (JSON.parse(line) as { url: string }).url;
      const status = (await (await fetch(`${url}/status`)).json()) as { listeners: any[] };
      return new CgseClient(cgseEndpoints(status.listeners));
    })().catch((err: unknown) => {
      child.kill("SIGKILL");
      throw err;
    });
    try {
      expect(await c.request({ action: "terminate" })).toEqual({
        success: true,
        status: "terminating",
        timestamp: expect.any(Number),
      });
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await c.close();
    }
  });
});
