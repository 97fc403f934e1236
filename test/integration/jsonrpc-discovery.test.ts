// Plexus backends registered over a real JSON-RPC WebSocket show up in the discovery API as the
// services `plexus/<name>`: listed, read, long-polled (woken by register and delete), and in /events.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

let srv: TestServer;
let ws: WsClient;

beforeAll(async () => {
  srv = await startTestServer({ dataDir: ":memory:" });
  const l = srv.server.listeners.find((x) => x.protocol === "jsonrpc");
  if (!l) throw new Error("no jsonrpc listener");
  ws = await WsClient.connect(`ws://127.0.0.1:${l.port}/`);
});
afterAll(async () => {
  await ws?.close();
  await srv.dispose();
});

async function get(path: string, signal?: AbortSignal) {
  const res = await fetch(`${srv.url}${path}`, signal ? { signal } : {});
  const body = (await res.json()) as any;
  return { status: res.status, index: body.index as number, body };
}

/** Starts a long-poll and resolves once the server holds it (so what follows must wake it). */
async function hold(path: string) {
  const before = srv.server.core.stats().waiters.consumer;
  const answer = get(path);
  await vi.waitFor(() => expect(srv.server.core.stats().waiters.consumer).toBe(before + 1), { timeout: 5000 });
  return { answer };
}

const ids = (services: { id: string }[]) => services.map((s) => s.id);

describe("Plexus backends in the discovery API", () => {
  it("a registration wakes a discovery long-poll, is listed and read; a delete wakes it again and it leaves", async () => {
    const first = await get("/services/plexus");
    expect(first.status).toBe(200);
    expect(first.body.services).toEqual([]);

    // Held until something of type plexus changes.
    const held = await hold(`/services/plexus?index=${first.index}&wait=10s`);
    await ws.call("registry.register", { name: "dev", host: "192.168.1.100", port: 4444, namespace: "lab" });
    const woken = await held.answer;
    expect(woken.status).toBe(200);
    expect(woken.index).toBeGreaterThan(first.index);
    expect(woken.body.services).toHaveLength(1);
    expect(woken.body.services[0]).toMatchObject({
      type: "plexus",
      id: "dev",
      name: "backends/dev",
      host: "192.168.1.100",
      port: 4444,
      protocol: "ws",
      namespace: "lab",
      source: "manual",
      health: null,
      expiresAt: null,
    });

    // Beside the services/ registers, in every listing.
    await fetch(`${srv.url}/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "web", id: "w1", host: "10.0.0.1", port: 80 }),
    });
    const all = await get("/services");
    expect(all.body.services.map((s: { name: string }) => s.name)).toEqual(["backends/dev", "services/web/w1"]);
    expect(ids((await get("/services/web")).body.services)).toEqual(["w1"]);
    const one = await get("/services/plexus/dev");
    expect(one.status).toBe(200);
    expect(one.body.service).toMatchObject({ name: "backends/dev", host: "192.168.1.100" });
    // A backend has no lease: a heartbeat finds it and changes nothing.
    const revision = srv.server.core.revision;
    const hb = await fetch(`${srv.url}/services/plexus/dev/heartbeat`, { method: "PUT" });
    expect(hb.status).toBe(200);
    expect(srv.server.core.revision).toBe(revision);
    expect(srv.server.core.get("backends/dev")?.expiresAt).toBeNull();

    // An update over JSON-RPC wakes the poll with the new endpoint.
    const heldUpdate = await hold(`/services/plexus?index=${woken.index}&wait=10s`);
    await ws.call("registry.update", { name: "dev", host: "192.168.1.101" });
    const updated = await heldUpdate.answer;
    expect(updated.body.services[0]).toMatchObject({ id: "dev", host: "192.168.1.101" });

    // The delete wakes it and the backend leaves every view.
    const heldDelete = await hold(`/services/plexus?index=${updated.index}&wait=10s`);
    await ws.call("registry.delete", { name: "dev" });
    const gone = await heldDelete.answer;
    expect(gone.body.services).toEqual([]);
    expect(ids((await get("/services")).body.services)).toEqual(["w1"]);
    const missing = await get("/services/plexus/dev");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("SERVICE_NOT_FOUND");
    await fetch(`${srv.url}/services/web/w1`, { method: "DELETE" });
  });

  it("streams the registration and removal on /events, and a discovery DELETE removes the backend", async () => {
    const ac = new AbortController();
    const res = await fetch(`${srv.url}/events?prefix=backends/`, { signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended; got ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await ws.call("registry.register", { name: "box", host: "127.0.0.1", port: 9000 });
    await until(/"backends\/box"/);

    // Removed through the discovery API, it is gone for the Plexus client too.
    const del = await fetch(`${srv.url}/services/plexus/box`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(((await del.json()) as any).deregistered).toBe("backends/box");
    await until(/"type":"delete"[^\n]*"backends\/box"|"backends\/box"[^\n]*"type":"delete"/);
    ac.abort();
    expect(await ws.call("registry.get", { name: "box" })).toEqual({ type: "backend", backend: null });
  });

  it("a service registered over REST as plexus/<id> wins over a backend of that name, and both are listed", async () => {
    await ws.call("registry.register", { name: "twin", host: "127.0.0.2", port: 1 });
    const post = await fetch(`${srv.url}/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "plexus", id: "twin", host: "127.0.0.3", port: 2 }),
    });
    expect(post.status).toBe(201);
    const list = await get("/services/plexus");
    expect(list.body.services.map((s: { name: string }) => s.name)).toEqual(["backends/twin", "services/plexus/twin"]);
    expect((await get("/services/plexus/twin")).body.service.name).toBe("services/plexus/twin");
    await fetch(`${srv.url}/services/plexus/twin`, { method: "DELETE" });
    expect((await get("/services/plexus/twin")).body.service.name).toBe("backends/twin");
    await ws.call("registry.delete", { name: "twin" });
  });
});
