// The accept gate's per-address cap over real loopback sockets: counted per address, freed on close, and its
// refusals logged at most once per interval (with the count since the last line), on an injected clock.

import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { type Admission, createAdmission, REFUSAL_LOG_INTERVAL_MS } from "../../../src/protocols/http/admission.js";

const lines: { msg: string; refused?: number; address?: string }[] = [];
const log = pino(
  { level: "warn" },
  new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  }),
);
const http = createHttpServer((_req, res) => res.end("ok"));
let gate: Admission | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.length = 0;
  await new Promise<void>((resolve) => (gate ? gate.server.close(() => resolve()) : resolve()));
  lines.length = 0;
});

async function start(maxConnectionsPerIp: number, now: () => number) {
  const refused: string[] = [];
  gate = createAdmission(
    http,
    {
      maxConnections: 100,
      maxConnectionsPerIp,
      retryAfterSeconds: 1,
      answer: async () => new Response("ops"),
      onRefused: (reason) => refused.push(reason),
      now,
    },
    log,
  );
  await new Promise<void>((resolve) => gate!.server.listen(0, "127.0.0.1", resolve));
  return { port: (gate.server.address() as AddressInfo).port, refused };
}

/** Connects and resolves with whether the server kept the connection (false: it closed it at once). */
async function attempt(port: number, localAddress = "127.0.0.1"): Promise<{ socket: Socket; kept: Promise<boolean> }> {
  const socket = connect({ port, host: "127.0.0.1", localAddress });
  sockets.push(socket);
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  // A kept connection answers a request; a refused one is closed without a byte.
  socket.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  const kept = new Promise<boolean>((resolve) => {
    socket.once("data", () => resolve(true));
    socket.once("close", () => resolve(false));
  });
  return { socket, kept };
}

it("refuses past the per-address cap, per address, and frees a slot when a connection closes", async () => {
  const { port, refused } = await start(2, () => 0);
  const a = await attempt(port);
  const b = await attempt(port);
  expect(await a.kept).toBe(true);
  expect(await b.kept).toBe(true);
  expect(gate!.openFrom("127.0.0.1")).toBe(2);
  expect(await (await attempt(port)).kept).toBe(false);
  expect(refused).toEqual(["per_ip"]);
  // Another loopback address has its own count.
  expect(await (await attempt(port, "127.0.0.2")).kept).toBe(true);
  a.socket.destroy();
  await new Promise<void>((resolve) => {
    const check = () => (gate!.openFrom("127.0.0.1") === 1 ? resolve() : setImmediate(check));
    check();
  });
  expect(await (await attempt(port)).kept).toBe(true);
  expect(refused).toEqual(["per_ip"]);
});

it("logs refusals at most once per interval, with the number refused since the last line", async () => {
  let t = 1_000_000;
  const { port, refused } = await start(1, () => t);
  expect(await (await attempt(port)).kept).toBe(true);
  for (let i = 0; i < 5; i++) expect(await (await attempt(port)).kept).toBe(false);
  expect(refused).toHaveLength(5);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ refused: 1, address: "127.0.0.1" });
  t += REFUSAL_LOG_INTERVAL_MS - 1;
  expect(await (await attempt(port)).kept).toBe(false);
  expect(lines).toHaveLength(1);
  t += 1;
  expect(await (await attempt(port)).kept).toBe(false);
  expect(lines).toHaveLength(2);
  // The four refused after the first line and the two since.
  expect(lines[1]).toMatchObject({ refused: 6 });
});
