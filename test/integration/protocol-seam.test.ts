// The protocol seam: a module from outside src/ plugs in through ServerDeps.protocols alone, gets its listener
// reported in RunningServer.listeners and /status, serves the same core as REST, and is stopped with the server.

import { connect } from "node:net";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { PROTOCOLS } from "../../src/protocols/index.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { lineProtocol } from "../fixtures/line-protocol/index.js";
import { TEST_PROTOCOL_DEFAULTS } from "../helpers/server.js";

function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(`${line}\n`));
    socket.on("error", reject);
    const lines = createInterface({ input: socket });
    lines.on("error", reject);
    lines.once("line", (answer) => {
      socket.destroy();
      resolve(answer);
    });
  });
}

describe("protocol seam", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(
      resolveConfig({ host: "127.0.0.1", port: 0, dataDir: ":memory:", logLevel: "silent", ...TEST_PROTOCOL_DEFAULTS }),
      {
        logger: silentLogger(),
        protocols: [...PROTOCOLS, lineProtocol],
      },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it("reports every listener, the added module's included, in RunningServer and /status", async () => {
    const line = server.listeners.find((l) => l.protocol === "line");
    expect(line).toMatchObject({ transport: "tcp", host: "127.0.0.1" });
    expect(line!.port).toBeGreaterThan(0);
    expect(server.listeners.find((l) => l.protocol === "http")).toMatchObject({ port: server.port });
    const status = (await (await fetch(`${server.url}/status`)).json()) as { listeners: unknown[]; revision: number };
    expect(status.listeners).toEqual(server.listeners);
  });

  it("serves the same core as REST", async () => {
    const put = await fetch(`${server.url}/provider`, {
      method: "PUT",
      body: JSON.stringify({ name: "seam/x", value: { on: true } }),
    });
    expect(put.status).toBe(200);
    const port = server.listeners.find((l) => l.protocol === "line")!.port;
    expect(await ask(port, "GET seam/x")).toBe('OK {"on":true}');
    expect(await ask(port, "GET seam/none")).toBe("NOTFOUND");
    expect(await ask(port, "bogus")).toBe("ERR bad command");
  });

  it("stops the module's listener with the server", async () => {
    const other = await startServer(
      resolveConfig({ host: "127.0.0.1", port: 0, dataDir: ":memory:", logLevel: "silent", ...TEST_PROTOCOL_DEFAULTS }),
      { logger: silentLogger(), protocols: [...PROTOCOLS, lineProtocol] },
    );
    const port = other.listeners.find((l) => l.protocol === "line")!.port;
    expect(await ask(port, "GET a")).toBe("NOTFOUND");
    await other.close();
    await expect(ask(port, "GET a")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("port settings", () => {
  it("take a number, 0 or off; off starts no HTTP listener", async () => {
    const config = resolveConfig({ ...TEST_PROTOCOL_DEFAULTS, port: "off", dataDir: ":memory:", logLevel: "silent" });
    expect(config.port).toBeNull();
    const server = await startServer(config, { logger: silentLogger(), protocols: [...PROTOCOLS, lineProtocol] });
    try {
      expect(server.url).toBe("");
      expect(server.listeners.map((l) => l.protocol)).toContain("line");
      expect(server.listeners.filter((l) => l.transport === "http")).toEqual([]);
    } finally {
      await server.close();
    }
    expect(() => resolveConfig({ port: "70000" })).toThrow(/port/);
    expect(() => resolveConfig({ port: "soon" })).toThrow(/port/);
  });
});
