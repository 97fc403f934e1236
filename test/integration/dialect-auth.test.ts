// The credential-less dialects under auth, with real clients: per-listener allowed networks (refused peers
// counted), the listener's named policy, and the token field where the wire can carry one.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode } from "../../src/protocols/rpyc/brine.js";
import { CgseClient, cgseEndpoints } from "../helpers/cgse-client.js";
import { request, tcpExchange, udpExchange } from "../helpers/rpyc-wire.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

const portOf = (s: TestServer, protocol: string, transport?: string) =>
  s.server.listeners.find((l) => l.protocol === protocol && (transport === undefined || l.transport === transport))!
    .port;
const refusedCount = async (s: TestServer, protocol: string) => {
  const v = await metricValue(s.url, "switchboard_protocol_errors_total", { protocol, code: "NETWORK_REFUSED" });
  return Number.isNaN(v) ? 0 : v;
};
const dialects = (allow: string, policy: string) => ({
  auth: "on",
  // The refusal counters are read from /metrics without a token.
  publicMetrics: true,
  jsonrpcAllow: allow,
  jsonrpcPolicy: policy,
  zmqAllow: allow,
  zmqPolicy: policy,
  rpycAllow: allow,
  rpycPolicy: policy,
});
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);

describe("peers outside the allowed networks", () => {
  let srv: TestServer;
  beforeAll(async () => {
    // Only 127.0.0.2 may connect; the test connects from 127.0.0.1.
    srv = await startTestServer({ config: dialects("127.0.0.2/32", "nothing") });
  });
  afterAll(() => srv.dispose());

  it("a JSON-RPC WebSocket upgrade is refused and counted", async () => {
    await expect(WsClient.connect(`ws://127.0.0.1:${portOf(srv, "jsonrpc")}/`)).rejects.toThrow();
    expect(await refusedCount(srv, "jsonrpc")).toBeGreaterThan(0);
  });

  it("a CGSE ZeroMQ peer is refused at the handshake and counted", async () => {
    const client = new CgseClient(cgseEndpoints(srv.server.listeners));
    try {
      expect(await within(client.request({ action: "health" }), 1500)).toBe("timeout");
      expect(await refusedCount(srv, "zmq")).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it("an RPyC request gets no answer and is counted", async () => {
    await expect(udpExchange(portOf(srv, "rpyc", "udp"), [request("LIST", [["127.0.0.1"]])])).rejects.toThrow(
      "no UDP reply",
    );
    expect(await refusedCount(srv, "rpyc")).toBeGreaterThan(0);
  });

  it("an allow list with auth on needs a policy", async () => {
    await expect(startTestServer({ config: { auth: "on", zmqAllow: "127.0.0.0/8" } })).rejects.toMatchObject({
      code: "INVALID_CONFIG",
    });
  });
});

describe("peers inside the allowed networks act under the listener's policy, or a token they carry", () => {
  let srv: TestServer;
  let writer: string;
  const admin = (path: string, body: unknown, method = "PUT") =>
    fetch(`${srv.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${readFileSync(join(srv.dataDir, "admin.token"), "utf8").trim()}` },
      body: JSON.stringify(body),
    });
  beforeAll(async () => {
    srv = await startTestServer({ config: dialects("127.0.0.0/8,::1/128", "lan") });
    // The network's policy reads everything of the dialects; the token may also write.
    expect(
      (
        await admin("/acl/policies/lan", {
          rules: [
            { prefix: "backends/", read: true },
            { prefix: "services/", read: true },
          ],
        })
      ).status,
    ).toBe(200);
    const rw = [
      { prefix: "backends/", read: true, write: true },
      { prefix: "services/", read: true, write: true },
    ];
    expect((await admin("/acl/policies/rw", { rules: rw })).status).toBe(200);
    const created = await admin("/acl/tokens", { policies: ["rw"] }, "POST");
    writer = ((await created.json()) as { token: string }).token;
  });
  afterAll(() => srv.dispose());

  it("JSON-RPC: reads by the policy, writes refused without a token, accepted with params.token", async () => {
    const c = await WsClient.connect(`ws://127.0.0.1:${portOf(srv, "jsonrpc")}/`);
    try {
      expect(await c.call("registry.list", {})).toMatchObject({ type: "backends" });
      const refused = await c.request("registry.register", { name: "lan-a", host: "127.0.0.1", port: 1 });
      expect(refused.error.data.code).toBe("FORBIDDEN");
      const bad = await c.request("registry.register", {
        name: "lan-a",
        host: "127.0.0.1",
        port: 1,
        token: `sbt.0123456789abcdef.${"A".repeat(43)}`,
      });
      expect(bad.error.data.code).toBe("UNAUTHENTICATED");
      const ok = await c.call("registry.register", { name: "lan-a", host: "127.0.0.1", port: 1, token: writer });
      expect(ok).toMatchObject({ type: "backend_registered" });
    } finally {
      await c.close();
    }
  });

  it("CGSE: lookups by the policy, register refused without a token, accepted with the body's token", async () => {
    const client = new CgseClient(cgseEndpoints(srv.server.listeners));
    try {
      expect(await client.request({ action: "list" })).toMatchObject({ success: true });
      const svc = { name: "lan svc", host: "127.0.0.1", port: 6110, type: "LAN_SVC" };
      const refused = await client.request({ action: "register", service_info: svc, ttl: 30 });
      expect(refused).toMatchObject({ success: false, code: "FORBIDDEN" });
      const ok = await client.request({ action: "register", service_info: svc, ttl: 30, token: writer });
      expect(ok).toMatchObject({ success: true });
    } finally {
      await client.close();
    }
  });

  it("RPyC: LIST by the policy, REGISTER refused (the wire carries no token)", async () => {
    const port = portOf(srv, "rpyc", "tcp");
    const listed = decode(await tcpExchange(port, [request("LIST", [["127.0.0.1"]])]));
    expect(listed.ok).toBe(true);
    const registered = await tcpExchange(port, [request("REGISTER", [["LANX"], 18861])]);
    expect(registered.length).toBe(0);
    expect(
      await metricValue(srv.url, "switchboard_protocol_errors_total", { protocol: "rpyc", code: "FORBIDDEN" }),
    ).toBeGreaterThan(0);
  });
});
