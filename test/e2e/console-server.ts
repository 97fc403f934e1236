// A Switchboard in a child process for the console's kill-and-restart test: prints {"url": …} once listening.
// Usage: console-server.ts DATA_DIR PORT UI_DIR

import { resolveConfig } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { startServer } from "../../src/server.js";
import { TEST_PROTOCOL_DEFAULTS } from "../helpers/server.js";

const [dataDir, port, uiDir] = process.argv.slice(2);
if (!dataDir || port === undefined || !uiDir) throw new Error("usage: console-server.ts DATA_DIR PORT UI_DIR");
const config = resolveConfig({
  ...TEST_PROTOCOL_DEFAULTS,
  host: "127.0.0.1",
  port: Number(port),
  dataDir,
  uiDir,
  logLevel: "silent",
});
const server = await startServer(config, { logger: silentLogger() });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
