// Starts a real Switchboard on 127.0.0.1 (port 0 unless given) for integration tests, and stops it.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../../src/config.js";
import type { Clock } from "../../src/core/index.js";
import { silentLogger } from "../../src/logger.js";
import { PROTOCOLS } from "../../src/protocols/index.js";
import { type RunningServer, startServer } from "../../src/server.js";

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

/**
 * Test servers never take the seed's fixed ports (tests run in parallel) or read the user's own
 * files: every protocol port is ephemeral and the Plexus backends file is off, unless a test says.
 */
export const TEST_PROTOCOL_DEFAULTS: Readonly<Record<string, unknown>> = {
  ...Object.fromEntries(
    PROTOCOLS.flatMap((m) => Object.keys(m.options.shape).filter((k) => k.endsWith("Port"))).map((k) => [k, 0]),
  ),
  backendsFile: "off",
};

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
