// The SSE fan-out floor: bare node:http, no framework. GET /events holds a `text/event-stream` response (headers
// flushed once it is held); PUT /provider is answered first, then one frame Buffer, shaped like Switchboard's
// `set` frame, is written to every held stream (res.write, no per-stream work). GET /waiters counts the streams.
// Prints {"url": …} once listening; exits on SIGTERM.

import { createServer, type ServerResponse } from "node:http";

const streams = new Set<ServerResponse>();
let revision = 0;
const createdAt = new Date().toISOString();

function frameOf(body: Buffer): Buffer {
  revision++;
  let put: { name?: unknown; value?: unknown };
  try {
    put = JSON.parse(body.toString("utf8")) as typeof put;
  } catch {
    put = {};
  }
  const name = typeof put.name === "string" ? put.name : "bench/wake";
  const data = JSON.stringify({
    type: "set",
    name,
    revision,
    register: {
      name,
      value: put.value ?? null,
      metadata: {},
      version: revision,
      createRevision: 1,
      modRevision: revision,
      createdAt,
      updatedAt: new Date().toISOString(),
      expiresAt: null,
    },
    epoch: "bare-sse",
  });
  return Buffer.from(`event: set\ndata: ${data}\nid: ${revision}\n\n`);
}

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "GET" && path === "/events") {
    streams.add(res);
    res.once("close", () => streams.delete(res));
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    res.flushHeaders();
    return;
  }
  if (req.method === "GET" && path === "/waiters") {
    const body = JSON.stringify({ consumer: 0, stream: streams.size });
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (req.method === "PUT" && path === "/provider") {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const frame = frameOf(Buffer.concat(chunks));
      const answer = JSON.stringify({ index: revision });
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(answer) });
      res.end(answer);
      setImmediate(() => {
        for (const s of streams) s.write(frame);
      });
    });
    return;
  }
  res.writeHead(404);
  res.end();
});
server.requestTimeout = 0;
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${a.port}` })}\n`);
});
process.on("SIGTERM", () => {
  for (const s of streams) s.end();
  server.close(() => process.exit(0));
  setTimeout(() => server.closeAllConnections(), 100).unref();
});
