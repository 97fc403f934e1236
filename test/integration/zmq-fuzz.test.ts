// The ZeroMQ ports under hostile input: random frames, truncated JSON, oversized frames, raw TCP garbage. No crash, memory flat.

import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as zmq from "zeromq";
import { CgseClient, cgseEndpoints } from "../helpers/cgse-client.js";
import { seededRandom } from "../helpers/flush.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
const MAX_BODY = 16 * 1024;

beforeAll(async () => {
  srv = await startTestServer({ dataDir: ":memory:", config: { maxBodyBytes: MAX_BODY } });
});
afterAll(async () => {
  await srv?.dispose();
});

const rand = seededRandom(1234);
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const VALID = [
  { action: "register", service_info: { name: "f", host: "h", port: 1, type: "FUZZ" }, ttl: 5 },
  { action: "list" },
  { action: "discover", service_type: "FUZZ" },
  { action: "get", service_id: "x" },
];

/** One hostile message for the request or heartbeat ROUTER (the DEALER adds nothing; the ROUTER adds the identity). */
function junk(): Buffer[] {
  switch (Math.floor(rand() * 6)) {
    case 0: // random frames
      return Array.from({ length: 1 + Math.floor(rand() * 4) }, () => bytes(Math.floor(rand() * 64)));
    case 1: {
      // a valid request cut short
      const text = JSON.stringify(pick(VALID));
      return [Buffer.from(pick(["REQ", "REQ_NO_REPLY"])), Buffer.from(text.slice(0, Math.floor(rand() * text.length)))];
    }
    case 2: // a wrong message type
      return [Buffer.from(pick(["RESPONSE", "NOTIF", "", "req"])), Buffer.from(JSON.stringify(pick(VALID)))];
    case 3: // JSON that is not an object, or odd field types
      return [
        Buffer.from("REQ"),
        Buffer.from(
          pick(['"x"', "null", "[]", "1e400", '{"action":{"a":1}}', '{"action":"register","service_info":[]}']),
        ),
      ];
    case 4: // deep nesting
      return [Buffer.from("REQ"), Buffer.from(`${"[".repeat(5000)}${"]".repeat(5000)}`)];
    default: // invalid UTF-8
      return [Buffer.from("REQ"), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])];
  }
}

async function healthy(): Promise<void> {
  const c = new CgseClient(cgseEndpoints(srv.server.listeners));
  try {
    expect(await c.request({ action: "health" })).toMatchObject({ success: true, status: "ok" });
    expect(await c.heartbeat("nobody")).toEqual({ success: false, error: "Service not found or could not be renewed" });
  } finally {
    await c.close();
  }
  expect((await fetch(`${srv.url}/registers?prefix=services/`)).status).toBe(200);
}

async function storm(n: number): Promise<void> {
  const { req, hb } = cgseEndpoints(srv.server.listeners);
  const a = new zmq.Dealer({ linger: 0 });
  const b = new zmq.Dealer({ linger: 0 });
  a.connect(req);
  b.connect(hb);
  try {
    for (let i = 0; i < n; i++) await (i % 2 ? a : b).send(junk());
    // A request after the junk on the same socket is answered: the junk was dropped or answered, never stuck.
    await a.send(["REQ", JSON.stringify({ action: "health" })]);
    for (let i = 0; i < 10_000; i++) {
      const [type, body] = await a.receive();
      if (type?.toString() === "RESPONSE" && JSON.parse(body!.toString()).status === "ok") return;
    }
    throw new Error("no answer to the health request after the junk");
  } finally {
    a.close();
    b.close();
  }
}

it("drops or answers random, truncated and malformed messages and keeps serving", async () => {
  await storm(2000);
  await healthy();
  expect(
    await metricValue(srv.url, "switchboard_protocol_errors_total", { protocol: "zmq", code: "MALFORMED" }),
  ).toBeGreaterThan(0);
  expect(
    await metricValue(srv.url, "switchboard_protocol_errors_total", { protocol: "zmq", code: "INVALID_JSON" }),
  ).toBeGreaterThan(0);
});

it("cuts a peer that sends a frame over the body limit, and other peers are unaffected", async () => {
  const { req } = cgseEndpoints(srv.server.listeners);
  const big = new zmq.Dealer({ linger: 0, receiveTimeout: 300 });
  big.connect(req);
  try {
    await big.send(["REQ", Buffer.alloc(MAX_BODY * 4, 0x20)]);
    await expect(big.receive()).rejects.toMatchObject({ code: "EAGAIN" });
  } finally {
    big.close();
  }
  await healthy();
});

it("survives raw TCP garbage and abrupt disconnects on every port", async () => {
  const payloads = [bytes(10), bytes(4096), Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f]), Buffer.alloc(0)];
  const sent = srv.server.listeners
    .filter((l) => l.transport === "zmq")
    .flatMap((l) =>
      payloads.map(
        (payload) =>
          new Promise<void>((resolve) => {
            const s = connect(l.port, l.host, () => s.write(payload, () => setTimeout(() => s.destroy(), 50)));
            s.on("error", () => resolve());
            s.on("close", () => resolve());
          }),
      ),
    );
  await Promise.all(sent);
  await healthy();
});

it("keeps memory flat over rounds of junk", async () => {
  await storm(1000);
  const before = process.memoryUsage().heapUsed;
  for (let round = 0; round < 4; round++) await storm(1000);
  await healthy();
  const grown = process.memoryUsage().heapUsed - before;
  // 4,000 messages: a leak of even 10 KiB each would show as 40 MB.
  expect(grown).toBeLessThan(24 * 1024 * 1024);
});
