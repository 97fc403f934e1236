// Starts a real Switchboard on 127.0.0.1 (port 0 unless given) for integration tests, and stops it.

import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig, SETTINGS } from "../../src/config.js";
import type { Clock } from "../../src/core/index.js";
import { silentLogger } from "../../src/logger.js";
import { type RunningServer, startServer } from "../../src/server.js";

/**
 * Every protocol port that is on by default (rpyc 18811, jsonrpc 4445 …) made ephemeral, so test
 * servers running side by side never collide; ports that default to off stay off.
 */
export const TEST_PROTOCOL_DEFAULTS: Record<string, unknown> = {
  // No scheduled health probes unless a test asks: tests register endpoints on made-up addresses,
  // and a probe must never leave the loopback interface.
  healthInterval: 0,
  // Nor read the user's own files: the Plexus backends file is off unless a test names one.
  backendsFile: "off",
  ...Object.fromEntries(
    SETTINGS.filter(
      ({ key, schema }) => key !== "port" && key.endsWith("Port") && schema.safeParse(undefined).data !== null,
    ).map(({ key }) => [key, 0]),
  ),
};

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly server: RunningServer;
  /** Graceful stop; the data dir is kept (restart with the same port and dataDir). */
  stop(): Promise<void>;
  /** Stop and remove the data dir if this helper created it. */
  dispose(): Promise<void>;
}

export async function startTestServer(
  options: { port?: number; dataDir?: string; config?: Record<string, unknown>; clock?: Clock } = {},
): Promise<TestServer> {
  const created = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), "switchboard-test-")) : undefined;
  const dataDir = options.dataDir ?? created!;
  const config = resolveConfig({
    host: "127.0.0.1",
    port: options.port ?? 0,
    dataDir,
    logLevel: "silent",
    ...TEST_PROTOCOL_DEFAULTS,
    ...options.config,
  });
  const server = await startServer(config, {
    logger: silentLogger(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    url: server.url,
    port: server.port,
    dataDir,
    server,
    stop,
    async dispose() {
      await stop();
      if (created) await rm(created, { recursive: true, force: true });
    },
  };
}

/** Reads one sample of a Prometheus metric from /metrics (labels must match exactly as rendered). */
/** One JSON request to a test server: the status and the parsed JSON answer. */
export async function callJson(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

export async function metricValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? "").split(",").filter(Boolean).sort().join(",");
    if (got === want) return Number(m[3]);
  }
  return Number.NaN;
}

/** A port that was free a moment ago (for a server whose config must name its own port, e.g. a CORS origin). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
