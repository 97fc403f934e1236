// Fuzzing the JSON-RPC port: random frames, truncated JSON and WebSocket frames, raw garbage, huge frames — no crash, no leak.

import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

let srv: TestServer;
let port: number;

beforeAll(async () => {
  srv = await startTestServer({ dataDir: ":memory:", config: { jsonrpcRateLimit: 0, jsonrpcMaxMessageBytes: 65536 } });
  port = srv.server.listeners.find((l) => l.protocol === "jsonrpc")!.port;
});
afterAll(async () => {
  await srv.dispose();
});

/** mulberry32: a seeded generator, so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  { jsonrpc: "2.0", id: 1, method: "registry.register", params: { name: "fz", host: "h", port: 1 } },
  { jsonrpc: "2.0", id: 2, method: "registry-hub.call", params: { method: "registry.list", params: {} } },
  { jsonrpc: "2.0", id: 3, method: "registry.update", params: { name: "fz", port: 2 } },
  { jsonrpc: "2.0", id: 4, method: "registry.watch", params: { prefix: "backends/" } },
];
const KNOWN_CODES = new Set([-32700, -32600, -32601, -32602, -32603, -32000]);

function isWellFormed(m: any): boolean {
  const one = (r: any) =>
    r?.jsonrpc === "2.0" &&
    (("id" in r &&
      ("result" in r || (r.error && KNOWN_CODES.has(r.error.code) && typeof r.error.message === "string"))) ||
      (typeof r.method === "string" && r.params && "subscription" in r.params));
  return Array.isArray(m) ? m.every(one) : one(m);
}

function randomFrame(rand: () => number): string | Buffer {
  const pick = Math.floor(rand() * 6);
  const bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
  const valid = JSON.stringify(VALID[Math.floor(rand() * VALID.length)]);
  switch (pick) {
    case 0:
      return bytes; // binary garbage
    case 1:
      return valid.slice(0, Math.floor(rand() * valid.length)); // truncated JSON
    case 2: {
      // one character of a valid request replaced
      const at = Math.floor(rand() * valid.length);
      return valid.slice(0, at) + String.fromCharCode(32 + Math.floor(rand() * 95)) + valid.slice(at + 1);
    }
    case 3: {
      const depth = Math.floor(rand() * 20000); // deep nesting, valid and not
      return "[".repeat(depth) + (rand() < 0.5 ? "]".repeat(depth) : "");
    }
    case 4:
      return JSON.stringify([JSON.parse(valid), bytes.toString("latin1"), null, 7]);
    default:
      return JSON.stringify({ jsonrpc: "2.0", id: rand(), method: bytes.toString("latin1"), params: [bytes.length] });
  }
}

it("answers 1,000 random frames with well-formed JSON-RPC and keeps serving", async () => {
  const rand = prng(0x5eed);
  const c = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  for (let i = 0; i < 1000; i++) c.sendRaw(randomFrame(rand));
  const last = await c.call("registry.list", { active_only: false });
  expect(last.type).toBe("backends");
  const bad = c.received.filter((m) => !isWellFormed(m));
  expect(bad).toEqual([]);
  expect(c.received.length).toBeGreaterThan(500);
  await c.close();
});

it("reads no faster than it answers: 3,000 pipelined requests are all answered in order, none refused", async () => {
  const c = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  for (let i = 0; i < 3000; i++) c.send({ jsonrpc: "2.0", id: `p${i}`, method: "registry.get", params: { name: "x" } });
  await c.next((m) => m.id === "p2999");
  const answers = c.received.filter((m) => typeof m.id === "string" && m.id.startsWith("p"));
  expect(answers.map((m) => m.id)).toEqual(Array.from({ length: 3000 }, (_, i) => `p${i}`));
  expect(answers.every((m) => m.result?.type === "backend")).toBe(true);
  expect(c.ws.readyState).toBe(c.ws.OPEN);
  await c.close();
});

it("disconnects a client that stops reading once 16 MiB of answers are queued for it", async () => {
  const c = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  const names = Array.from({ length: 1000 }, (_, i) => `slow-${i}`);
  for (let i = 0; i < names.length; i += 100) {
    c.send(
      names.slice(i, i + 100).map((name) => ({
        jsonrpc: "2.0",
        method: "registry.register",
        params: { name, host: "h".repeat(200), port: 1 },
      })),
    );
  }
  await c.call("registry.list", {});
  const socket = (c.ws as unknown as { _socket: import("node:net").Socket })._socket;
  socket.pause();
  // Each answer lists 1,000 backends (~400 KB): 120 of them cannot all fit into socket buffers.
  for (let i = 0; i < 120; i++) c.send({ jsonrpc: "2.0", id: `big${i}`, method: "registry.list", params: {} });
  const cut = () =>
    metricValue(srv.url, "switchboard_protocol_errors_total", { protocol: "jsonrpc", code: "SLOW_CONSUMER" });
  const deadline = Date.now() + 10_000;
  while (!((await cut()) >= 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(await cut()).toBe(1);
  socket.resume();
  expect((await c.closed).code).toBe(1006);
  const other = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  await other.call("registry.delete", { name: "slow-0" });
  await other.close();
});

it("survives raw garbage, truncated WebSocket frames and invalid UTF-8 text frames", async () => {
  const raw = (bytes: Buffer) =>
    new Promise<string>((resolve) => {
      const s = connect(port, "127.0.0.1", () => s.end(bytes));
      let got = "";
      s.on("data", (d) => {
        got += d.toString("latin1");
      });
      s.on("error", () => resolve(got));
      s.on("close", () => resolve(got));
    });
  expect(await raw(Buffer.from("\x00\xff garbage\r\n\r\n"))).toMatch(/^HTTP\/1\.1 400/);
  const handshake =
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  // A masked text frame header promising 100 bytes, then the connection ends.
  const truncated = Buffer.concat([Buffer.from(handshake), Buffer.from([0x81, 0x80 | 100, 1, 2, 3, 4, 0x41])]);
  expect(await raw(truncated)).toMatch(/^HTTP\/1\.1 101/);
  // A masked text frame whose payload is not UTF-8: the server closes with 1007.
  const payload = Buffer.from([0xc3, 0x28, 0xa0, 0xa1]);
  const mask = [9, 8, 7, 6];
  const masked = payload.map((b, i) => b ^ mask[i % 4]!);
  const reply = await raw(Buffer.concat([Buffer.from(handshake), Buffer.from([0x81, 0x80 | 4, ...mask]), masked]));
  expect(reply).toMatch(/^HTTP\/1\.1 101/);
  expect(reply).toContain(String.fromCharCode(0x88)); // a close frame came back

  const c = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  expect((await c.call("_info")).backend).toBe("registry-hub");
  await c.close();
});

it("closes each connection that sends a huge frame and leaves no watch, subscription or waiter behind", async () => {
  // Other modules may hold streams of their own (the ZeroMQ PUB feed): count only what this test adds.
  const baseStreams = srv.server.core.stats().waiters.stream;
  for (let i = 0; i < 5; i++) {
    const c = await WsClient.connect(`ws://127.0.0.1:${port}/`);
    await c.call("registry.watch", { prefix: "backends/" });
    c.sendRaw("x".repeat(200_000));
    expect((await c.closed).code).toBe(1009);
  }
  const c = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  expect((await c.call("registry.list", {})).type).toBe("backends");
  await c.close();
  // Watches end with their connection (the close handler runs as the socket closes).
  const deadline = Date.now() + 2000;
  while (srv.server.core.stats().waiters.stream > baseStreams && Date.now() < deadline)
    await new Promise((r) => setImmediate(r));
  expect(srv.server.core.stats().waiters.stream).toBe(baseStreams);
  const health = await fetch(`${srv.url}/healthz`);
  expect(health.status).toBe(200);
});
