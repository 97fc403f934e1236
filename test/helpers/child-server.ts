// Runs a Switchboard in a child process for crash tests: prints {"url": …} on stdout once listening.
// Usage: child-server.ts DATA_DIR [strict|relaxed] [PORT]; SWITCHBOARD_* variables (e.g. SWITCHBOARD_MONGO_URL) apply too.
// A fixed PORT lets a test restart the server where its clients already point.

import { configFromEnv, resolveConfig } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { startServer } from "../../src/server.js";
import { TEST_PROTOCOL_DEFAULTS } from "./server.js";

const [dataDir, durability = "strict", port = "0"] = process.argv.slice(2);
if (!dataDir) throw new Error("usage: child-server.ts DATA_DIR [strict|relaxed] [PORT]");
const config = resolveConfig({ dataDir, durability }, configFromEnv(process.env), {
  ...TEST_PROTOCOL_DEFAULTS,
  port: Number(port),
  logLevel: "silent",
});
const server = await startServer(config, { logger: silentLogger() });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
