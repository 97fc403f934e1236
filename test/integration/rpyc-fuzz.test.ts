// Fuzzing the RPyC port: random bytes, truncated frames and huge frames over UDP and TCP; no crash, every drop counted, memory flat.

import { connect } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../src/protocols/rpyc/brine.js";
import { random } from "../helpers/brine-arbitrary.js";
import { request, rpycPort, tcpExchange, udpExchange } from "../helpers/rpyc-wire.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/** The JS heap plus Buffers (which live outside it): what a leak of frames would grow. */
const memory = async () => {
  // Sockets closed a moment ago release their buffers once their handles are gone: let them go first.
  await new Promise((r) => setImmediate(r));
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

let srv: TestServer;
let port: number;
const rng = random(0xf00d);

beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
  port = rpycPort(srv);
  expect(await udpExchange(port, [request("REGISTER", [["fuzzed"], 4242])])).toBeDefined();
});
afterAll(() => srv.dispose());

const VALID = [
  request("REGISTER", [["fuzzed", "other"], 4242]),
  request("QUERY", ["fuzzed"]),
  request("LIST", [[null]]),
  request("UNREGISTER", [4243]),
];
const QUERY_REPLY = encode([["127.0.0.1", 4242]]).toString("hex");

const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));

/** Garbage of every kind: random bytes, strict prefixes of valid requests, and oversized frames. */
function garbage(): Buffer {
  const r = rng();
  if (r < 0.5) return randomBytes(Math.floor(rng() * 200));
  const valid = VALID[Math.floor(rng() * VALID.length)]!;
  if (r < 0.9) return valid.subarray(0, Math.floor(rng() * valid.length));
  return Buffer.concat([valid, randomBytes(1500)]); // a valid start, but larger than any request may be
}

const malformed = async () => {
  const v = await metricValue(srv.url, "switchboard_protocol_errors_total", { protocol: "rpyc", code: "MALFORMED" });
  return Number.isNaN(v) ? 0 : v;
};

/** One round: UDP batches (each followed by a QUERY that must still be answered) and TCP connections. */
async function round(): Promise<number> {
  let sent = 0;
  for (let batch = 0; batch < 12; batch++) {
    // Small batches: a burst larger than the socket's receive buffer would be dropped by the kernel.
    const datagrams = Array.from({ length: 30 }, garbage);
    datagrams.push(randomBytes(60_000), randomBytes(60_000));
    sent += datagrams.length;
    const reply = await udpExchange(port, [...datagrams, request("QUERY", ["fuzzed"])]);
    expect(reply.data.toString("hex")).toBe(QUERY_REPLY);
  }
  const frames = Array.from({ length: 40 }, garbage);
  const answers = await Promise.all(frames.map((f) => tcpExchange(port, [f], { halfClose: true })));
  for (const answer of answers) expect(answer.length).toBe(0);
  // A connection that sent nothing made no request, so it is not counted; an empty datagram is.
  return sent + frames.filter((f) => f.length > 0).length;
}

describe("rpyc port under fuzz", () => {
  it("drops and counts every bad frame, keeps answering, and holds memory flat", async () => {
    const first = await malformed();
    const warmup = await round();
    expect(await malformed()).toBe(first + warmup);
    const before = await memory();
    let total = 0;
    for (let i = 0; i < 4; i++) total += await round();
    const grown = (await memory()) - before;
    expect(await malformed()).toBe(first + warmup + total);
    // ~1,700 frames, 96 of them 60 KB (5.8 MB together): keeping the frames would exceed this.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${srv.url}/status`)).status).toBe(200);
  });

  it("cuts a TCP stream at 1,500 bytes instead of buffering it", async () => {
    const before = await malformed();
    const closed = await new Promise<{ written: number }>((resolve) => {
      const socket = connect({ port, host: "127.0.0.1" });
      let written = 0;
      socket.on("error", () => undefined);
      socket.on("close", () => resolve({ written }));
      const chunk = Buffer.alloc(64 * 1024, 0x10); // nested tuple tags: truncated forever, never complete
      const pump = () => {
        while (written < 64 * 1024 * 1024 && !socket.destroyed) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
      };
      socket.on("connect", pump);
    });
    expect(closed.written).toBeLessThan(64 * 1024 * 1024);
    expect(await malformed()).toBe(before + 1);
  });
});
