// 100 MB through the proxy to a slow sink: every byte arrives, and the proxy holds no more than a few buffers (backpressure).

import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openRaw } from "../helpers/proxy-client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const TOTAL = 100 * 1024 * 1024;
const CHUNK = 64 * 1024;

let sb: TestServer;
let sinkPort: number;
const sinkServer = createServer((s: Socket) => {
  // A slow start: for 300 ms nothing is read, so only backpressure keeps the proxy from buffering it all.
  s.pause();
  const hash = createHash("sha256");
  let size = 0;
  setTimeout(() => {
    s.on("data", (c: Buffer) => {
      size += c.length;
      hash.update(c);
    });
    s.on("end", () => s.end(`${size} ${hash.digest("hex")}\n`));
    s.resume();
  }, 300);
});

beforeAll(async () => {
  sinkServer.listen(0, "127.0.0.1");
  await once(sinkServer, "listening");
  sinkPort = (sinkServer.address() as { port: number }).port;
  sb = await startTestServer({ config: { dataDir: ":memory:", healthInterval: 0, proxyPort: 0 } });
  await sb.server.services.discovery.register({
    type: "sink",
    id: "a",
    endpoint: { host: "127.0.0.1", port: sinkPort },
    ttlMs: null,
  });
});
afterAll(async () => {
  await sb.dispose();
  sinkServer.close();
});

function* chunks(hash: ReturnType<typeof createHash>) {
  // Varying bytes (a counter in each chunk) so that a reordering or a lost chunk changes the digest.
  const chunk = Buffer.alloc(CHUNK, 7);
  for (let i = 0; i < TOTAL / CHUNK; i++) {
    chunk.writeUInt32BE(i, 0);
    hash.update(chunk);
    yield Buffer.from(chunk);
  }
}

it("streams 100 MB byte for byte with bounded memory", async () => {
  const port = sb.server.listeners.find((l) => l.protocol === "tcp-proxy")!.port;
  const c = await openRaw(port);
  c.socket.write("sink/a\n");
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
      await sleep(20);
    }
  })();
  const sent = createHash("sha256");
  await pipeline(Readable.from(chunks(sent)), c.socket, { end: true });
  const answer = (await c.received).toString();
  sampling = false;
  await sampler;
  expect(answer).toBe(`${TOTAL} ${sent.digest("hex")}\n`);
  // Without backpressure the 300 ms stall alone would park most of the 100 MB in the proxy.
  expect(peak).toBeLessThan(48 * 1024 * 1024);
}, 30_000);
