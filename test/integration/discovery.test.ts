// Discovery over real HTTP: register, heartbeat (no revision), deregister, filters, long-poll on health, bad input.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { type HttpTarget, startHttpTarget } from "../helpers/targets.js";

let sb: TestServer;
let target: HttpTarget;
beforeAll(async () => {
  sb = await startTestServer({ config: { dataDir: ":memory:", healthInterval: 0, healthTimeout: "500ms" } });
  target = await startHttpTarget();
});
afterAll(async () => {
  await sb.dispose();
  await target.close();
});
afterEach(async () => {
  // Each test registers under its own type; drop them all so listings start empty.
  for (const s of sb.server.services.discovery.list()) await sb.server.services.discovery.deregister(s.type, s.id);
  target.status = 200;
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sb.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: res.status, index: res.headers.get("x-switchboard-index"), body: (await res.json()) as any };
}

describe("register, read, deregister", () => {
  it("registers with a given or generated id and reads it back", async () => {
    const a = await call("POST", "/services", { type: "web", id: "a", host: "127.0.0.1", port: 8001, tags: ["eu"] });
    expect(a.status).toBe(201);
    expect(a.body.service).toMatchObject({
      type: "web",
      id: "a",
      name: "services/web/a",
      host: "127.0.0.1",
      port: 8001,
    });
    expect(a.body.service.health).toBeNull();
    const b = await call("POST", "/services", { type: "web", host: "127.0.0.1", port: 8002, extra: { x: 1 } });
    expect(b.status).toBe(201);
    expect(b.body.service.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.body.service.extra).toEqual({ x: 1 });
    const one = await call("GET", "/services/web/a");
    expect(one.body.service.tags).toEqual(["eu"]);
    const list = await call("GET", "/services/web");
    expect(list.body.services.map((s: { port: number }) => s.port).sort()).toEqual([8001, 8002]);
    expect(Number(list.index)).toBe(list.body.index);
    const tagged = await call("GET", "/services/web?tag=eu");
    expect(tagged.body.services.map((s: { id: string }) => s.id)).toEqual(["a"]);
    expect((await call("GET", "/services/web?tag=eu&tag=us")).body.services).toEqual([]);
    expect((await call("GET", "/services")).body.services).toHaveLength(2);
  });

  it("deregisters, and answers SERVICE_NOT_FOUND after", async () => {
    await call("POST", "/services", { type: "gone", id: "a", host: "h", port: 1 });
    const del = await call("DELETE", "/services/gone/a");
    expect(del.status).toBe(200);
    expect(del.body.deregistered).toBe("services/gone/a");
    for (const [m, p] of [
      ["DELETE", "/services/gone/a"],
      ["GET", "/services/gone/a"],
      ["PUT", "/services/gone/a/heartbeat"],
      ["POST", "/services/gone/a/check"],
    ] as const) {
      const r = await call(m, p);
      expect(r.status, `${m} ${p}`).toBe(404);
      expect(r.body.error.code).toBe("SERVICE_NOT_FOUND");
    }
  });

  it("refuses bad registrations with coded errors and stores nothing", async () => {
    const before = sb.server.core.revision;
    const cases: [unknown, string][] = [
      [{ type: "web", host: "h" }, "INVALID_BODY"],
      [{ type: "web", host: "h", port: 70000 }, "INVALID_BODY"],
      [{ type: "web", host: "h", port: 1, check: "carrier-pigeon" }, "INVALID_BODY"],
      [{ type: "we b", host: "h", port: 1 }, "INVALID_NAME"],
      [{ type: "web", id: "a/b", host: "h", port: 1 }, "INVALID_NAME"],
      [{ type: "web", host: "h", port: 1, ttl: "soon" }, "INVALID_DURATION"],
    ];
    for (const [body, code] of cases) {
      const r = await call("POST", "/services", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe(code);
    }
    const notJson = await fetch(`${sb.url}/services`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect((await call("GET", "/services/web?healthy=maybe")).body.error.code).toBe("INVALID_QUERY");
    expect((await call("GET", "/services/web?index=x")).body.error.code).toBe("INVALID_INDEX");
    expect(sb.server.core.revision).toBe(before);
  });
});

describe("heartbeat", () => {
  it("renews the lease without a revision, and a held discover poll is not woken by it", async () => {
    const reg = await call("POST", "/services", { type: "hb", id: "a", host: "h", port: 1, ttl: "30s" });
    const index = reg.body.index;
    const expires = Date.parse(reg.body.service.expiresAt);
    const poll = call("GET", `/services/hb?index=${index}&wait=1s`);
    const hb = await call("PUT", "/services/hb/a/heartbeat");
    expect(hb.status).toBe(200);
    expect(hb.body.index).toBe(index);
    expect(Date.parse(hb.body.service.expiresAt)).toBeGreaterThanOrEqual(expires);
    expect(hb.body.service.version).toBe(1);
    // The poll runs out its wait (the heartbeat did not wake it) and answers the same index.
    const answered = await poll;
    expect(answered.body.index).toBe(index);
    // A new lease length is taken from the body.
    const longer = await call("PUT", "/services/hb/a/heartbeat", { ttl: "10m" });
    expect(Date.parse(longer.body.service.expiresAt)).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect((await call("PUT", "/services/hb/a/heartbeat", { ttl: -1 })).body.error.code).toBe("INVALID_DURATION");
    expect((await call("PUT", "/services/hb/a/heartbeat", { ttl: null })).body.error.code).toBe("INVALID_DURATION");
    expect((await call("PUT", "/services/hb/a/heartbeat", { ttl: 0 })).body.error.code).toBe("INVALID_DURATION");
    expect((await call("PUT", "/services/hb/a/heartbeat", { other: 1 })).body.error.code).toBe("INVALID_BODY");
  });
});

describe("health in discovery", () => {
  it("checks on demand, filters by health, and wakes a long-poll only when the status flips", async () => {
    await call("POST", "/services", {
      type: "api",
      id: "a",
      host: "127.0.0.1",
      port: target.port,
      health_check_api: target.url,
    });
    await call("POST", "/services", { type: "api", id: "b", host: "127.0.0.1", port: target.port });
    // Not yet checked: not healthy.
    expect((await call("GET", "/services/api?healthy=true")).body.services).toEqual([]);
    const check = await call("POST", "/services/api/a/check");
    expect(check.body.health).toMatchObject({ status: "passing", output: "HTTP 200: ok" });
    const healthy = await call("GET", "/services/api?healthy=true");
    expect(healthy.body.services.map((s: { id: string }) => s.id)).toEqual(["a"]);
    expect(healthy.body.services[0].health.status).toBe("passing");
    expect(healthy.body.services[0].metadata.health.status).toBe("passing");

    // A confirming check moves no revision.
    const index = healthy.body.index;
    await call("POST", "/services/api/a/check");
    expect((await call("GET", "/services/api")).body.index).toBe(index);

    // A held poll wakes on the flip.
    const poll = call("GET", `/services/api?index=${index}&wait=10s&healthy=true`);
    target.status = 503;
    const flipped = await call("POST", "/services/api/a/check");
    expect(flipped.body.health).toMatchObject({ status: "critical", output: "HTTP 503: down" });
    const woke = await poll;
    expect(woke.body.index).toBeGreaterThan(index);
    expect(woke.body.services).toEqual([]);
    // The register itself carries it too (plain consumer read).
    const reg = (await call("GET", "/consumer?name=services/api/a")).body.registers[0];
    expect(reg.metadata.health.status).toBe("critical");
    expect(reg.version).toBe(3);
  });

  it("keeps the verdict across a re-registration of the same endpoint, drops it for a new one", async () => {
    const body = { type: "re", id: "a", host: "127.0.0.1", port: target.port, health_check_api: target.url };
    await call("POST", "/services", body);
    await call("POST", "/services/re/a/check");
    const same = await call("POST", "/services", {
      ...body,
      metadata: { health: { status: "passing", forged: true } },
    });
    expect(same.body.service.health.status).toBe("passing");
    expect(same.body.service.metadata.health.forged).toBeUndefined();
    const moved = await call("POST", "/services", { ...body, port: target.port + 1 });
    expect(moved.body.service.health).toBeNull();
  });
});
