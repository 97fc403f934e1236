// 1,000 WebSocket clients, each watching its own backend register over registry.watch, all told of its change.

import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

let srv: TestServer;
let url: string;

beforeAll(async () => {
  srv = await startTestServer({ dataDir: ":memory:" });
  url = `ws://127.0.0.1:${srv.server.listeners.find((l) => l.protocol === "jsonrpc")!.port}/`;
});
afterAll(async () => {
  await srv.dispose();
});

it("notifies 1,000 WebSocket clients, each watching one register, of its change", async () => {
  const n = 1000;
  const name = (i: number) => `fleet-${String(i).padStart(4, "0")}`;
  const clients = await Promise.all(Array.from({ length: n }, () => WsClient.connect(url)));
  try {
    const subs = await Promise.all(clients.map((c, i) => c.call("registry.watch", { prefix: `backends/${name(i)}` })));
    // Each client registers its neighbour's backend: every watcher is told by someone else's write.
    await Promise.all(
      clients.map((c, i) => c.call("registry.register", { name: name((i + 1) % n), host: "h", port: i })),
    );
    const told = await Promise.all(
      clients.map((c, i) => c.next((m) => m.method === "registry.watch" && m.params.subscription === subs[i], 15_000)),
    );
    told.forEach((m, i) => {
      expect(m.params.result).toMatchObject({ type: "set", name: `backends/${name(i)}` });
    });
    // Nobody heard of a register it does not watch.
    for (const c of clients) expect(c.received.filter((m) => m.method === "registry.watch")).toHaveLength(1);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}, 30_000);
