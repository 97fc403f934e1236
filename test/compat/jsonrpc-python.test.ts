// A Python client (Debian's python3-websockets) runs the seed's websocat session against the server, in both call styles.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./plexus_client.py", import.meta.url));

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ dataDir: ":memory:" });
});
afterAll(async () => {
  await srv.dispose();
});

function runClient(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, url], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`python client exited ${code}: ${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

it("has Debian's python3-websockets (CI installs it)", () => {
  expect(existsSync(PYTHON)).toBe(true);
});

it("serves the seed's session to a Python websockets client, direct and hub style", async () => {
  const port = srv.server.listeners.find((l) => l.protocol === "jsonrpc")!.port;
  const out = await runClient(`ws://127.0.0.1:${port}`);

  const [list, reg, get, upd, ping, del, reload] = out.direct;
  expect(list).toEqual({ jsonrpc: "2.0", id: 1, result: { type: "backends", backends: [] } });
  expect(reg.result).toMatchObject({
    type: "backend_registered",
    backend: { name: "test", host: "127.0.0.1", port: 8888, protocol: "ws", source: "manual", is_active: true },
  });
  expect(get.result).toEqual({ type: "backend", backend: reg.result.backend });
  expect(upd.result.backend).toMatchObject({ name: "test", host: "192.168.1.101", port: 8888 });
  expect(ping.result).toMatchObject({ type: "ping", name: "test", success: true });
  expect(del.result).toEqual({ type: "backend_deleted", name: "test" });
  expect(reload.result).toEqual({ type: "reloaded", count: 0 });
  expect(out.websocat).toEqual({ jsonrpc: "2.0", id: "w1", result: { type: "backends", backends: [] } });
  expect(out.parse_error).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });

  expect(out.hub.info.result.backend).toBe("registry-hub");
  expect(out.hub.schema.items[0]).toMatchObject({
    content_type: "registry.schema",
    content: { namespace: "registry" },
  });
  expect(out.hub.schema.items[0].content.methods.map((m: any) => m.name)).toContain("register");
  const contents = out.hub.calls.map(([method, call]: [string, any]) => {
    expect(call.notification_methods).toEqual(["result"]);
    expect(call.items.map((i: any) => i.type)).toEqual(["data", "done"]);
    expect(call.items[0].content_type).toBe(method);
    expect(call.items[0].metadata).toMatchObject({ provenance: ["registry"], plexus_hash: expect.any(String) });
    return call.items[0].content.type;
  });
  expect(contents).toEqual([
    "backends",
    "backend_registered",
    "backend",
    "backend_updated",
    "ping",
    "backend_deleted",
    "reloaded",
  ]);
  expect(out.hub.missing.items).toEqual([
    expect.objectContaining({ type: "error", message: "Backend not found: test", recoverable: false }),
    expect.objectContaining({ type: "done" }),
  ]);
});
