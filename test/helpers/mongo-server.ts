// A MongoDB-wire-compatible test server (CongoServer) on a free loopback port, stoppable to simulate an outage.

import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { congodb } from "@push.rocks/smartmongo";

export interface MongoTestServer {
  /** mongodb://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** Stops listening and drops every connection; the data stays in memory (an outage, not a wipe). */
  stop(): Promise<void>;
  /** Listens again on the same port with the same data (stops first if running). */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function isAddressInUse(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "EADDRINUSE";
}

/**
 * One CongoServer instance for the whole life of the handle: its in-memory storage survives
 * stop()/start(), which is what lets restart() come back with the acknowledged data. CongoServer
 * needs a fixed port (port 0 would be reported back as 0), so a free one is picked first.
 */
export async function startMongoServer(): Promise<MongoTestServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const server = new congodb.CongoServer({ host: "127.0.0.1", port, storage: "memory" });
    try {
      await server.start();
    } catch (err) {
      if (isAddressInUse(err) && attempt < 5) continue;
      throw err;
    }
    return {
      url: `mongodb://127.0.0.1:${port}`,
      port,
      get running() {
        return server.running;
      },
      stop: () => server.stop(),
      async restart() {
        await server.stop();
        // The port was ours a moment ago; if another socket grabbed it meanwhile, wait a little.
        for (let i = 0; ; i++) {
          try {
            await server.start();
            return;
          } catch (err) {
            if (!isAddressInUse(err) || i >= 40) throw err;
            await sleep(25);
          }
        }
      },
    };
  }
}
