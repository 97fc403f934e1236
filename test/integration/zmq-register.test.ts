// The CGSE registry dialect over real ZeroMQ sockets (npm zeromq as the client): register, heartbeats, expiry.

import { describe, expect, it } from "vitest";
import { CgseClient, cgseEndpoints } from "../helpers/cgse-client.js";
import { useCgseServer } from "../helpers/cgse-fixture.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { startTestServer } from "../helpers/server.js";

const f = useCgseServer();
const { clock, nowSeconds, rest, register } = f;

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

    const event = await f.client.waitForEvent((e) => e.topic === "register" && e.body.data.service_id === id);
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

    expect(await f.client.request({ action: "get", service_id: id })).toEqual({
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
    expect(await f.client.request({ action: "deregister", service_id: id })).toMatchObject({ success: true });
  });

  it("updates an existing id in place (same register, new version) and a type change moves it", async () => {
    const first = await register({ name: "upd", id: "upd-1", host: "127.0.0.21", port: 1, type: "UPD_A" });
    expect(first.service_id).toBe("upd-1");
    const again = await register({ name: "upd", id: "upd-1", host: "127.0.0.22", port: 2, type: "UPD_A" });
    expect(again).toEqual({ success: true, service_id: "upd-1", message: "Service registered successfully" });
    const r = await rest("GET", "/consumer?name=services/UPD_A/upd-1");
    expect(r.body.registers[0]).toMatchObject({ version: 2, value: { host: "127.0.0.22", port: 2 } });

    await register({ name: "upd", id: "upd-1", host: "127.0.0.22", port: 2, type: "UPD_B" });
    const moved = await rest("GET", "/consumer?name=services/UPD_A/upd-1&name=services/UPD_B/upd-1");
    expect(moved.body.registers.map((x: any) => x.found)).toEqual([false, true]);
    expect((await f.client.request({ action: "get", service_id: "upd-1" })).service.metadata.type).toBe("UPD_B");
    await f.client.request({ action: "deregister", service_id: "upd-1" });
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
    const info = await f.client.request({ action: "info" });
    expect(info.enforce_unique_service_types).toBe(true);
    for (const id of ["uniq-1", "uniq-2"]) await f.client.request({ action: "deregister", service_id: id });
  });

  it("honours REQ_NO_REPLY: the action runs and nothing is answered", async () => {
    await f.client.sendRaw([
      "REQ_NO_REPLY",
      JSON.stringify({ action: "register", service_info: { name: "quiet", id: "quiet-1", host: "h", port: 9 } }),
    ]);
    await f.client.waitForEvent((e) => e.topic === "register" && e.body.data.service_id === "quiet-1");
    // The next reply on the socket belongs to the next REQ: the no-reply request got none.
    expect(await f.client.request({ action: "health" })).toEqual({
      success: true,
      status: "ok",
      timestamp: nowSeconds(),
    });
    expect((await f.client.request({ action: "get", service_id: "quiet-1" })).service.metadata).toEqual({});
    await f.client.request({ action: "deregister", service_id: "quiet-1" });
  });

  it("runs one peer's requests in order: a no-reply deregister is not overtaken by the next request", async () => {
    const body = (action: string) =>
      JSON.stringify({ action, service_id: "order-1", service_info: { name: "o", id: "order-1", host: "h", port: 1 } });
    await f.client.sendRaw(["REQ_NO_REPLY", body("register")]);
    await f.client.sendRaw(["REQ_NO_REPLY", body("deregister")]);
    expect(await f.client.request({ action: "get", service_id: "order-1" })).toEqual({
      success: false,
      error: "Service not found",
    });
    await f.client.waitForEvent((e) => e.topic === "deregister" && e.body.data.service_id === "order-1");
  });
});

describe("heartbeats and expiry", () => {
  it("keeps a service past its TTL while it beats, then expires it with an expire event", async () => {
    const { service_id: id } = await register({ name: "beat", host: "h", port: 5, type: "BEAT" }, 3);
    const registeredAt = nowSeconds();
    for (let i = 0; i < 4; i++) {
      clock.advance(2000);
      expect(await f.client.heartbeat(id)).toEqual({ success: true, message: "Service renewed successfully" });
    }
    // 8 s after registering with a 3 s TTL it is still there, beaten 0 s ago.
    const alive = await f.client.request({ action: "get", service_id: id });
    expect(alive.service).toMatchObject({ health: "passing", ttl: 3, last_heartbeat: registeredAt + 8 });
    // Renewals are not changes: no register event, one register revision.
    expect(f.client.events.filter((e) => e.body.data.service_id === id).map((e) => e.topic)).toEqual(["register"]);

    // Each sweep runs when its timer fires and schedules the next one once it has committed.
    const isExpiry = (e: { topic: string; body: { data: any } }) =>
      e.topic === "expire" && e.body.data.service_id === id;
    for (let i = 0; i < 10 && !f.client.events.some(isExpiry); i++) {
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const expired = await f.client.waitForEvent(isExpiry);
    // Not before the last beat (at 8 s) plus the 3 s TTL.
    expect(clock.now() - registeredAt * 1000).toBeGreaterThanOrEqual(11_000);
    expect(expired.body).toEqual({ type: "expire", timestamp: expect.any(Number), data: { service_id: id } });
    expect(await f.client.request({ action: "get", service_id: id })).toEqual({
      success: false,
      error: "Service not found",
    });
    expect(await f.client.heartbeat(id)).toEqual({
      success: false,
      error: "Service not found or could not be renewed",
    });
    // The client's recovery: re-register with the same id.
    const back = await register({ name: "beat", id, host: "h", port: 5, type: "BEAT" }, 3);
    expect(back).toMatchObject({ success: true, service_id: id });
    await f.client.request({ action: "deregister", service_id: id });
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
