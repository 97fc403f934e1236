// The baseline server of the benchmarks: bare hono routes on @hono/node-server, no core, no storage, no middleware.
//
// PUT /provider echoes the parsed JSON body (c.json of c.req.json()), and also answers every held
// GET /consumer with that body: the floor of "a write wakes N held HTTP requests" on this stack.
// GET /consumer holds until the next PUT (or 60 s). GET /waiters counts the held requests.
// Prints {"url": …} once listening, like test/helpers/child-server.ts; exits on SIGTERM.

import { serve } from "@hono/node-server";
import { Hono } from "hono";

const held = new Set<(body: unknown) => void>();
const app = new Hono();

app.put("/provider", async (c) => {
  const body: unknown = await c.req.json();
  const waiting = [...held];
  held.clear();
  for (const release of waiting) release(body);
  return c.json(body);
});

app.get(
  "/consumer",
  (c) =>
    new Promise<Response>((resolve) => {
      const release = (body: unknown) => {
        clearTimeout(timer);
        held.delete(release);
        resolve(c.json(body));
      };
      const timer = setTimeout(() => release({ timeout: true }), 60_000);
      held.add(release);
    }),
);

app.get("/waiters", (c) => c.json({ consumer: held.size }));

const server = serve(
  {
    fetch: app.fetch,
    hostname: "127.0.0.1",
    port: 0,
    serverOptions: { requestTimeout: 120_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 },
  },
  (info) => process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${info.port}` })}\n`),
);

process.on("SIGTERM", () => {
  for (const release of [...held]) release({ closed: true });
  const http = server as unknown as { closeAllConnections?: () => void };
  server.close(() => process.exit(0));
  setTimeout(() => http.closeAllConnections?.(), 100).unref();
});
