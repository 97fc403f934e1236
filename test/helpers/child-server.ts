// Runs a Switchboard in a child process for crash tests: prints {"url": …} on stdout once listening.

import { resolveConfig } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { startServer } from "../../src/server.js";

const [dataDir, durability = "strict"] = process.argv.slice(2);
if (!dataDir) throw new Error("usage: child-server.ts DATA_DIR [strict|relaxed]");
const server = await startServer(resolveConfig({ port: 0, dataDir, durability, logLevel: "silent" }), {
  logger: silentLogger(),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
