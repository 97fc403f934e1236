// Compare-and-set from the client: set/delete/request with ifVersion, VersionConflictError, provisions' conditional set().

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientError, SwitchboardClient, VersionConflictError } from "#client";
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

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("conditional writes in the client", () => {
  it("set with ifVersion: 0 creates once; a stale version rejects with a typed conflict", async () => {
    const first = await app.set("c/a", 1, { ifVersion: 0 });
    expect(first.version).toBe(1);
    const err = await rejection(app.set("c/a", 2, { ifVersion: 0 }));
    expect(err).toBeInstanceOf(VersionConflictError);
    expect(err).toBeInstanceOf(ClientError);
    const conflict = err as VersionConflictError;
    expect(conflict.status).toBe(409);
    expect(conflict.code).toBe("VERSION_CONFLICT");
    expect(conflict.conflicts).toEqual([{ name: "c/a", version: 1, modRevision: first.modRevision, ifVersion: 0 }]);
    expect((await app.set("c/a", 2, { ifVersion: 1 })).version).toBe(2);
    expect((await app.get("c/a")).value).toBe(2);
  });

  it("delete with ifVersion deletes nothing on a stale version", async () => {
    await app.set("c/d", 1);
    await app.set("c/d", 2);
    expect(await rejection(app.delete("c/d", { ifVersion: 1 }))).toBeInstanceOf(VersionConflictError);
    expect(await app.delete("c/d", { ifVersion: 2 })).toEqual(["c/d"]);
  });

  it("request with ifVersion is refused once the device moved on", async () => {
    await app.set("c/lamp", "off");
    await app.request("c/lamp", "on", { ifVersion: 1 });
    await app.set("c/lamp", "dim");
    const err = (await rejection(app.request("c/lamp", "on", { ifVersion: 1 }))) as VersionConflictError;
    expect(err.conflicts[0]).toMatchObject({ name: "c/lamp", version: 2, ifVersion: 1 });
  });

  it("a provision's conditional set applies once, and a stale one keeps the value", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    try {
      const p = device.provide("c/prov", "a", { ttl: "10s" });
      await p.ready;
      const r = await p.set("b", undefined, { ifVersion: 1 });
      expect(r.version).toBe(2);
      expect(await rejection(p.set("c", undefined, { ifVersion: 1 }))).toBeInstanceOf(VersionConflictError);
      expect(p.value).toBe("b");
      expect((await app.get("c/prov")).value).toBe("b");
    } finally {
      await device.close();
    }
  });
});

describe("request outcomes in the client", () => {
  it("outcome(id, {wait}) settles with the provider's report; requestKey retries give one id", async () => {
    await app.set("c/heater", "off");
    const first = await app.request("c/heater", "on", { requestKey: "tap", expiresIn: "1m" });
    const again = await app.request("c/heater", "on", { requestKey: "tap" });
    expect(again.id).toBe(first.id);
    expect((await app.outcome(first.id)).status).toBe("pending");
    const waiting = app.outcome(first.id, { wait: "20s" });
    for (let i = 0; i < 500 && srv.server.core.outcomeWaiters < 1; i++) await new Promise((r) => setTimeout(r, 5));
    await fetch(`${srv.url}/provider/acks`, {
      method: "PUT",
      body: JSON.stringify({ acks: [{ id: first.id, status: "rejected", message: "door open" }] }),
    });
    expect(await waiting).toMatchObject({ id: first.id, name: "c/heater", status: "rejected", message: "door open" });
    const missing = await rejection(app.outcome(99_999_999));
    expect(missing).toMatchObject({ status: 404, code: "REQUEST_NOT_FOUND" });
  });
});

describe("request handles", () => {
  it("request() answers {id, name} whose outcome settles with the provider's answer", async () => {
    await app.set("c/bulb", "off");
    const r = await app.request("c/bulb", "on", { expiresIn: "30s", requestKey: "click-1" });
    expect(r).toEqual({ id: expect.any(Number), name: "c/bulb" });
    const outcome = r.outcome;
    for (let i = 0; i < 500 && srv.server.core.outcomeWaiters < 1; i++) await new Promise((res) => setTimeout(res, 5));
    expect(srv.server.core.outcomeWaiters).toBe(1);
    await fetch(`${srv.url}/provider/acks`, {
      method: "PUT",
      body: JSON.stringify({ acks: [{ id: r.id, status: "done", result: { brightness: 80 } }] }),
    });
    expect(await outcome).toMatchObject({ id: r.id, status: "done", result: { brightness: 80 } });
    // The same promise on every access.
    expect(r.outcome).toBe(outcome);
  });

  it("a request nobody picks up settles as expired", async () => {
    await app.set("c/offline", "off");
    const r = await app.request("c/offline", "on", { expiresIn: "500ms" });
    expect(await r.outcome).toMatchObject({ id: r.id, status: "expired" });
  });
});
