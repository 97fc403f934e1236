// The composition root: config → storage → core → services → protocols. The only module that knows them all.

import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { authEnabled, type Config } from "./config.js";
import { type Clock, type HealthCache, type Persistence, Switchboard, SwitchboardError } from "./core/index.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { createHttpHost } from "./protocols/http/host.js";
import { PROTOCOLS } from "./protocols/index.js";
import type { Listener, ProtocolInstance, ProtocolModule } from "./protocols/protocol.js";
import { bootstrapAdmin } from "./services/auth/bootstrap.js";
import { createServices, type Services } from "./services/index.js";
import { registryMirror } from "./services/registry/index.js";
import { createFilePersistence } from "./storage/file/index.js";
import { createMemoryHealthCache } from "./storage/memory/health-cache.js";
import { createMemoryPersistence } from "./storage/memory/index.js";
import { createMongoPersistence } from "./storage/mongo/index.js";
import { createRedisHealthCache } from "./storage/redis/health-cache.js";

export interface RunningServer {
  /** Base URL of the HTTP listener (empty when `--port off`). */
  readonly url: string;
  readonly host: string;
  /** Port of the HTTP listener (0 when `--port off`). */
  readonly port: number;
  /** Every bound socket, by protocol. */
  readonly listeners: readonly Listener[];
  readonly core: Switchboard;
  readonly services: Services;
  readonly config: Config;
  /** Every route of the shared HTTP port, as `METHOD /path` (for tests that check each one has an ACL decision). */
  routes(): string[];
  /** Graceful stop: answers held polls, flushes storage, closes sockets (forced at shutdownTimeout). */
  close(): Promise<void>;
}

export interface ServerDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly persistence?: Persistence;
  /** Protocol modules to run instead of the standard list (tests add their own). */
  readonly protocols?: readonly ProtocolModule[];
  /** Random source of the health schedule's jitter. */
  readonly random?: () => number;
}

export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
})();

export function createPersistence(config: Config, log: Logger): Persistence {
  if (config.mongoUrl) {
    return createMongoPersistence({
      url: config.mongoUrl,
      database: config.mongoDatabase,
      writeTimeoutMs: config.mongoWriteTimeout,
      writeConcern: config.mongoWriteConcern,
      reconcileIntervalMs: config.mongoReconcileInterval,
      mirrors: [registryMirror],
      logger: log.child({ storage: "mongo" }),
    });
  }
  if (config.dataDir === ":memory:") return createMemoryPersistence();
  return createFilePersistence({
    dir: config.dataDir,
    durability: config.durability,
    compactAfterBytes: config.compactAfterBytes,
  });
}

/** Redis when --redis-url is set (an outage there degrades to live probes), else memory on the core's clock. */
export function createHealthCache(config: Config, clock: Clock, log: Logger): HealthCache {
  if (!config.redisUrl) return createMemoryHealthCache({ clock });
  const cacheLog = log.child({ cache: "redis" });
  return createRedisHealthCache({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    onStateChange: (healthy, err) =>
      healthy ? cacheLog.info("redis connected") : cacheLog.warn({ err }, "redis unreachable"),
  });
}

export async function startServer(config: Config, deps: ServerDeps = {}): Promise<RunningServer> {
  const log =
    deps.logger ??
    createLogger({ level: config.logLevel, ...(config.logPretty === undefined ? {} : { pretty: config.logPretty }) });
  const persistence = deps.persistence ?? createPersistence(config, log);
  const core = await Switchboard.open({
    persistence,
    ...(deps.clock ? { clock: deps.clock } : {}),
    limits: {
      maxValueBytes: config.maxValueBytes,
      maxMetadataBytes: config.maxMetadataBytes,
      maxDepth: config.maxDepth,
      maxBatch: config.maxBatch,
      maxNames: config.maxNames,
      maxWaitMs: config.maxWait,
      maxQueue: config.maxQueue,
      maxWaiters: config.maxWaiters,
    },
    eventRingSize: config.eventRingSize,
    sweepIntervalMs: config.sweepInterval,
    requestTtlMs: config.requestTtl,
    requestHistoryMs: config.requestHistory,
    ...(config.ttlGrace === undefined ? {} : { ttlGraceMs: config.ttlGrace }),
    onError: (err, context) => log.error({ err, context }, "background task failed"),
  });
  let ready = false;
  const listeners: Listener[] = [];
  const metrics = createMetrics(core);
  const auth = authEnabled(config);
  if (config.corsOrigin.split(",").some((o) => o.trim() === "*") && !auth) {
    await core.close();
    throw new SwitchboardError("INVALID_CONFIG", 'cors-origin "*" needs auth on: any web page could drive this server');
  }
  const runtime = createServices(core, {
    started: () => ready,
    log,
    health: {
      cache: createHealthCache(config, core.clock, log),
      cacheTtlMs: config.healthCacheTtl,
      timeoutMs: config.healthTimeout,
      intervalMs: config.healthInterval,
      concurrency: config.healthConcurrency,
    },
    auth: { enabled: auth, rateLimit: config.rateLimit, failuresPerMinute: config.authFailuresPerMinute },
    ...(deps.random ? { random: deps.random } : {}),
  });
  const { services } = runtime;
  if (auth) {
    const file = await bootstrapAdmin(services.auth, {
      dataDir: config.dataDir,
      ...(config.adminTokenFile ? { file: config.adminTokenFile } : {}),
    });
    if (file)
      log.warn({ file }, "auth is on and no token existed: the admin token was written to this file (mode 0600)");
    log.info({ auth: "on", tokens: services.auth.listTokens().length }, "auth on: every request needs a token");
  } else {
    log.warn(
      { auth: "off", host: config.host },
      "auth off: anyone who reaches the port may read, write and delete every register (loopback only by default)",
    );
  }
  const http = createHttpHost(
    {
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      maxHeaderBytes: 16 * 1024 + config.maxNames * 270,
      corsOrigins: config.corsOrigin
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean),
      allowedHosts: config.allowedHosts
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
      auth: services.auth,
      maxHoldMs: config.maxWait + config.maxWait / 16,
      epoch: core.epoch,
    },
    log.child({ protocol: "http" }),
    metrics,
  );
  const started: { name: string; instance: ProtocolInstance }[] = [];
  const stopAll = async (deadlineMs: number) => {
    await http.stop(deadlineMs);
    for (const { name, instance } of started.reverse()) {
      await instance
        .stop(deadlineMs)
        .catch((err: unknown) => log.error({ err, protocol: name }, "protocol stop failed"));
    }
  };
  try {
    // Every module is created before anything listens, so HTTP routes are all mounted when the port opens.
    const modules = deps.protocols ?? PROTOCOLS;
    const created = modules.map((m) => {
      const options = config.protocols[m.name] ?? m.options.parse({});
      const instance = m.create(
        {
          core,
          services,
          log: log.child({ protocol: m.name }),
          metrics,
          http,
          host: config.host,
          listeners: () => listeners,
          isReady: () => ready,
          settings: {
            defaultWaitMs: config.defaultWait,
            maxWaitMs: config.maxWait,
            maxBodyBytes: config.maxBodyBytes,
            maxNames: config.maxNames,
            version: VERSION,
          },
        },
        options,
      );
      return { name: m.name, instance };
    });
    const httpListener = await http.start();
    if (httpListener) listeners.push(httpListener);
    for (const { name, instance } of created) {
      started.push({ name, instance });
      const own = await instance.start();
      listeners.push(...own);
    }
  } catch (err) {
    await stopAll(0);
    await runtime.close();
    metrics.close();
    await core.close();
    throw err;
  }
  runtime.start();
  ready = true;
  const httpListener = listeners.find((l) => l.transport === "http" && l.protocol === "http");
  const urlHost = httpListener?.host.includes(":") ? `[${httpListener.host}]` : httpListener?.host;
  const url = httpListener ? `http://${urlHost}:${httpListener.port}` : "";
  log.info(
    {
      url,
      listeners: listeners.map((l) => `${l.protocol} ${l.transport}://${l.host}:${l.port}`),
      storage: persistence.name,
      revision: core.revision,
      registers: core.stats().registers,
    },
    "switchboard listening",
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    host: httpListener?.host ?? config.host,
    port: httpListener?.port ?? 0,
    listeners,
    core,
    services,
    config,
    routes: () => [...new Set(http.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))],
    close() {
      closing ??= (async () => {
        ready = false;
        log.info("shutting down");
        await Promise.all([stopAll(config.shutdownTimeout), runtime.close(), core.close()]);
        metrics.close();
        log.info({ revision: core.revision }, "stopped");
      })();
      return closing;
    },
  };
}
