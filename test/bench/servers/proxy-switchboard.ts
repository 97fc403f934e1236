// A Switchboard with the TCP proxy on, for the proxy benchmark. Usage: proxy-switchboard.ts TARGET_PORT.
// Registers the service bench/echo at 127.0.0.1:TARGET_PORT, checks it once (so connections are
// served from the cache), and prints {"url": "tcp://…"} with the proxy's address.

import { resolveConfig } from "../../../src/config.js";
import { silentLogger } from "../../../src/logger.js";
import { startServer } from "../../../src/server.js";

const targetPort = Number(process.argv[2]);
if (!Number.isInteger(targetPort)) throw new Error("usage: proxy-switchboard.ts TARGET_PORT");
const config = resolveConfig({
  port: 0,
  dataDir: ":memory:",
  logLevel: "silent",
  proxyPort: 0,
  // One verdict for the whole run: the benchmark measures the proxy with a cached health.
  healthInterval: 0,
  healthCacheTtl: "1h",
});
const server = await startServer(config, { logger: silentLogger() });
await server.services.discovery.register({
  type: "bench",
  id: "echo",
  endpoint: { host: "127.0.0.1", port: targetPort },
  ttlMs: null,
});
const verdict = await server.services.health.check("services/bench/echo");
if (verdict?.status !== "passing") throw new Error(`target not healthy: ${JSON.stringify(verdict)}`);
const proxy = server.listeners.find((l) => l.protocol === "tcp-proxy")!;
process.stdout.write(`${JSON.stringify({ url: `tcp://127.0.0.1:${proxy.port}` })}\n`);
process.on("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
