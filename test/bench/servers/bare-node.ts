// The fan-out floor: bare node:http, no framework. GET /consumer holds until the next PUT /provider, which is
// answered first; then every held request gets the same Buffer (writeHead + end). GET /waiters counts them.
// Prints {"url": …} once listening; exits on SIGTERM.

import { createServer, type ServerResponse } from "node:http";

let held = new Set<ServerResponse>();

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "GET" && path === "/consumer") {
    held.add(res);
    res.once("close", () => held.delete(res));
    return;
  }
  if (req.method === "GET" && path === "/waiters") {
    const body = JSON.stringify({ consumer: held.size });
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (req.method === "PUT" && path === "/provider") {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length });
      res.end(body);
      const waiting = held;
      held = new Set();
      setImmediate(() => {
        for (const r of waiting) {
          r.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length });
          r.end(body);
        }
      });
    });
    return;
  }
  res.writeHead(404);
  res.end();
});
server.requestTimeout = 120_000;
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${a.port}` })}\n`);
});
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  setTimeout(() => server.closeAllConnections(), 100).unref();
});
