// A real CGSE-style client (Debian python3-zmq, /usr/bin/python3) against Switchboard's ZeroMQ registry dialect.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { cgseEndpoints } from "../helpers/cgse-client.js";
import { startTestServer } from "../helpers/server.js";

// Debian's python3 with python3-zmq (.ci/run installs it), not whatever python3 is first on PATH.
const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./cgse_client.py", import.meta.url));
const run = promisify(execFile);

it("serves a pyzmq client in CGSE's patterns: register, events, heartbeats past the TTL, expiry, re-register", async () => {
  const srv = await startTestServer({ dataDir: ":memory:", config: { sweepInterval: "100ms" } });
  try {
    const e = cgseEndpoints(srv.server.listeners);
    const startedAt = Math.floor(Date.now() / 1000);
    const { stdout } = await run(PYTHON, [SCRIPT, e.req, e.hb, e.pub], { timeout: 20_000 });
    const out = JSON.parse(stdout);
    expect(out.health).toEqual({ success: true, status: "ok", timestamp: expect.any(Number) });
    expect(out.health.timestamp).toBeGreaterThanOrEqual(startedAt);
    expect(out.health.timestamp).toBeLessThanOrEqual(Date.now() / 1000);

    const sid: string = out.register.service_id;
    expect(out.register).toEqual({ success: true, service_id: sid, message: "Service registered successfully" });
    expect(sid).toMatch(/^cm_cs-[0-9a-f-]{36}$/);
    expect(out.register_event.topic).toBe("register");
    expect(out.register_event.body).toMatchObject({
      type: "register",
      data: { service_id: sid, service_info: { name: "cm_cs", host: "127.0.0.1", port: 6110, type: "CM_CS" } },
    });
    expect(out.duplicate).toMatchObject({ success: false, error: "duplicate_service_type", existing_service_id: sid });
    expect(out.discover.service).toMatchObject({
      id: sid,
      host: "127.0.0.1",
      port: 6110,
      metadata: { service_port: 6112, monitoring_port: 6111, type: "CM_CS" },
      tags: ["CM_CS"],
      ttl: 2,
      health: "passing",
    });
    expect(out.list.services.map((s: { id: string }) => s.id)).toEqual([sid]);

    expect(out.beats).toHaveLength(6);
    for (const b of out.beats) expect(b).toEqual({ success: true, message: "Service renewed successfully" });
    expect(out.after_beats.service).toMatchObject({ id: sid, health: "passing" });

    expect(out.aux_deregister_event.body.data.service_info).toMatchObject({ name: "aux", host: "h", port: 2 });
    expect(out.aux_get).toEqual({ success: false, error: "Service not found" });

    expect(out.expire_event.body).toEqual({ type: "expire", timestamp: expect.any(Number), data: { service_id: sid } });
    expect(out.renew_after_expiry).toEqual({ success: false, error: "Service not found or could not be renewed" });
    expect(out.reregister).toEqual({ success: true, service_id: sid, message: "Service registered successfully" });
    expect(out.deregister).toEqual({ success: true, message: "Service deregistered successfully" });
    expect(out.deregister_event.body.data).toMatchObject({ service_id: sid, service_info: { id: sid, ttl: 30 } });

    expect(out.invalid_json).toEqual({ success: false, error: "Invalid JSON format" });
    expect(out.unknown_action).toEqual({ success: false, error: "Unknown action: fly" });
    expect(out.terminate.success).toBe(false);
    expect(out.info).toMatchObject({
      success: true,
      status: "ok",
      req_port: Number(e.req.split(":").pop()),
      pub_port: Number(e.pub.split(":").pop()),
      hb_port: Number(e.hb.split(":").pop()),
      services: [],
    });
    // What the Python client did is visible over REST too: nothing is left under services/.
    const left = (await (await fetch(`${srv.url}/registers?prefix=services/`)).json()) as { registers: unknown[] };
    expect(left.registers).toEqual([]);
  } finally {
    await srv.dispose();
  }
});
