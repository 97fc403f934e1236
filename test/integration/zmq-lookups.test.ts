// The CGSE registry dialect over real ZeroMQ sockets: get, list, discover, deregister, health, info, terminate, every error message.

import { describe, expect, it } from "vitest";
import { useCgseServer } from "../helpers/cgse-fixture.js";
import { metricValue } from "../helpers/server.js";

const f = useCgseServer();
const { nowSeconds, rest, register } = f;

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
    const lb = await f.client.request({ action: "list", service_type: "LB" });
    expect(lb.success).toBe(true);
    expect(lb.services.map((s: any) => s.id).sort()).toEqual(ids.slice(0, 2).sort());
    const byTag = await f.client.request({ action: "list", service_type: "shared" });
    expect(byTag.services).toHaveLength(3);
    const all = await f.client.request({ action: "list" });
    expect(all.services.map((s: any) => s.id)).toEqual(expect.arrayContaining(ids));

    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const d = await f.client.request({ action: "discover", service_type: "LB" });
      expect(d.success).toBe(true);
      expect(d.service).toMatchObject({ health: "passing", host: "h" });
      seen.add(d.service.id);
    }
    // Random among the passing ones: 40 draws from two miss one with probability 2^-39.
    expect([...seen].sort()).toEqual(ids.slice(0, 2).sort());
    expect(await f.client.request({ action: "discover", service_type: "NOPE" })).toEqual({
      success: false,
      error: "No healthy service of type NOPE found",
    });
    for (const id of ids) {
      expect(await f.client.request({ action: "deregister", service_id: id })).toEqual({
        success: true,
        message: "Service deregistered successfully",
      });
    }
    expect((await f.client.request({ action: "list", service_type: "LB" })).services).toEqual([]);
  });

  it("deregisters with a deregister event carrying the record, then says the service is gone", async () => {
    const { service_id: id } = await register({ name: "bye", host: "h", port: 7, type: "BYE" }, 10);
    expect(await f.client.request({ action: "deregister", service_id: id })).toEqual({
      success: true,
      message: "Service deregistered successfully",
    });
    const e = await f.client.waitForEvent((x) => x.topic === "deregister" && x.body.data.service_id === id);
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
    expect(await f.client.request({ action: "deregister", service_id: id })).toEqual({
      success: false,
      error: "Service not found or could not be deregistered",
    });
    expect(await f.client.request({ action: "renew", service_id: id })).toEqual({
      success: false,
      error: "Service not found or could not be renewed",
    });
  });

  it("answers health, info with the bound ports, and refuses terminate by default", async () => {
    expect(await f.client.request({ action: "health" })).toEqual({
      success: true,
      status: "ok",
      timestamp: nowSeconds(),
    });
    const port = (p: string) => f.srv.server.listeners.find((l) => l.protocol === p)!.port;
    const info = await f.client.request({ action: "info" });
    expect(info).toEqual({
      success: true,
      status: "ok",
      req_port: port("zmq-req"),
      pub_port: port("zmq-pub"),
      hb_port: port("zmq-hb"),
      enforce_unique_service_types: true,
      services: expect.any(Array),
    });
    const t = await f.client.request({ action: "terminate" });
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
      expect(await f.client.request(body), JSON.stringify(body)).toEqual({ success: false, error });
    }
    // Label values are the known actions only: what a client makes up is counted as "unknown".
    const ops = (operation: string) =>
      metricValue(f.srv.url, "switchboard_protocol_operations_total", { protocol: "zmq", operation });
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
