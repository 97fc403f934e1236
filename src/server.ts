// The composition root: config → storage → core → services → protocols. The only module that knows them all.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { authEnabled, type Config } from "./config.js";
import {
  type Clock,
  type HealthCache,
  isSwitchboardError,
  type ObjectStore,
  type Persistence,
  Switchboard,
  SwitchboardError,
  systemClock,
} from "./core/index.js";
import { createLogger } from "./logger.js";
import { createMetrics, createStorageErrorCounter } from "./metrics.js";
import { defaultMaxConnections } from "./protocols/http/fd-limit.js";
import { createHttpHost } from "./protocols/http/host.js";
import { PROTOCOLS } from "./protocols/index.js";
import type { Listener, ProtocolInstance, ProtocolModule } from "./protocols/protocol.js";
import { bootstrapAdmin } from "./services/auth/bootstrap.js";
import { createServices, type Services } from "./services/index.js";
import { registryMirror } from "./services/registry/index.js";
import { memoryStatusStore, redisStatusStore, type UploadStatusStore } from "./services/registry/upload-status.js";
import { createReplicatedLog, type ReplicatedLog } from "./storage/cluster/index.js";
import { createFilePersistence } from "./storage/file/index.js";
import { createMemoryHealthCache } from "./storage/memory/health-cache.js";
import { createMemoryPersistence } from "./storage/memory/index.js";
import { createMongoPersistence } from "./storage/mongo/index.js";
import { createFsObjectStore } from "./storage/objects/fs.js";
import { createS3ObjectStore } from "./storage/objects/s3.js";
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

export function createPersistence(
  config: Config,
  log: Logger,
  onStorageError: (op: string, code: string) => void = () => undefined,
): Persistence {
  if (config.cluster) {
    const nodeId = config.nodeId ?? `${hostname()}-${process.pid}`;
    return createReplicatedLog({
      url: config.cluster,
      stream: config.clusterStream,
      replicas: config.clusterReplicas,
      nodeId,
      leaseTtlMs: config.clusterLeaseTtl,
      snapshotEvery: config.clusterSnapshotEvery,
      snapshotMargin: config.clusterSnapshotMargin,
      logger: log.child({ storage: "cluster", node: nodeId }),
    });
  }
  if (config.mongoUrl) {
    return createMongoPersistence({
      url: config.mongoUrl,
      database: config.mongoDatabase,
      writeTimeoutMs: config.mongoWriteTimeout,
      writeConcern: config.mongoWriteConcern,
      reconcileIntervalMs: config.mongoReconcileInterval,
      mirrors: [registryMirror],
      logger: log.child({ storage: "mongo" }),
      onError: onStorageError,
    });
  }
  if (config.dataDir === ":memory:") return createMemoryPersistence();
  return createFilePersistence({
    dir: config.dataDir,
    durability: config.durability,
    compactAfterBytes: config.compactAfterBytes,
    logger: log.child({ storage: "file" }),
    onError: onStorageError,
  });
}

function isReplicatedLog(p: Persistence): p is ReplicatedLog {
  return typeof (p as Partial<ReplicatedLog>).follow === "function";
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

/**
 * What uploads need: the asset store (a directory under the data dir unless --object-store names
 * another directory or an s3:// bucket), a temp dir for multipart files, and the task status store (Redis when --redis-url is set).
 * With `--data-dir :memory:` both directories are temporary and removed at close.
 */
async function uploadDeps(config: Config, clock: Clock) {
  const scratch = config.dataDir === ":memory:" ? await mkdtemp(join(tmpdir(), "switchboard-uploads-")) : null;
  const base = scratch ?? config.dataDir;
  const objects: ObjectStore & { close?: () => void } = config.objectStore?.startsWith("s3:")
    ? createS3ObjectStore({ url: config.objectStore, endpoint: config.objectStoreEndpoint })
    : createFsObjectStore(
        config.objectStore
          ? config.objectStore.startsWith("file:")
            ? fileURLToPath(config.objectStore)
            : config.objectStore
          : join(base, "objects"),
      );
  const tempDir = join(base, "upload-tmp");
  await mkdir(tempDir, { recursive: true });
  let status: UploadStatusStore;
  if (config.redisUrl) {
    const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    await redis.connect();
    const owner = createHash("sha256")
      .update(scratch ?? resolve(config.dataDir))
      .digest("hex")
      .slice(0, 16);
    status = redisStatusStore(redis, config.uploadStatusTtl, owner);
  } else {
    status = memoryStatusStore(clock, config.uploadStatusTtl);
  }
  return {
    objects,
    status,
    tempDir,
    dispose: async () => {
      objects.close?.();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}

export async function startServer(config: Config, deps: ServerDeps = {}): Promise<RunningServer> {
  const log =
    deps.logger ??
    createLogger({ level: config.logLevel, ...(config.logPretty === undefined ? {} : { pretty: config.logPretty }) });
  // Every held poll holds a connection: the waiter cap sits below the connection cap so that its 429 fires first.
  const maxConnections = config.maxConnections ?? defaultMaxConnections();
  const maxWaiters = config.maxWaiters ?? Math.max(1, Math.min(200_000, maxConnections - 64));
  const storageErrors = createStorageErrorCounter();
  const persistence =
    deps.persistence ?? createPersistence(config, log, (op, code) => storageErrors.labels(op, code).inc());
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
      maxWaiters,
    },
    eventRingSize: config.eventRingSize,
    sweepIntervalMs: config.sweepInterval,
    requestTtlMs: config.requestTtl,
    requestHistoryMs: config.requestHistory,
    // A cluster member waits briefly for its tail when a client's index is ahead of it (it switched node).
    aheadWaitMs: config.cluster ? 1000 : 0,
    ...(config.ttlGrace === undefined ? {} : { ttlGraceMs: config.ttlGrace }),
    onError: (err, context) => {
      // A store logs its own failures once per change of health; a compaction failing on every commit
      // while the disk is full must not add a stack trace per commit.
      if (isSwitchboardError(err) && err.code === "STORAGE_UNAVAILABLE") {
        log.debug({ context, code: err.code, message: err.message }, "background storage task failed");
      } else log.error({ err, context }, "background task failed");
    },
  });
  // A cluster member applies what the writer commits, through the same path as its own writes.
  if (isReplicatedLog(persistence)) {
    try {
      await persistence.follow(
        (mutations) => core.applyReplicated(mutations),
        (snapshot) => core.replaceReplicated(snapshot),
      );
    } catch (err) {
      await core.close();
      throw err;
    }
  }
  let ready = false;
  const listeners: Listener[] = [];
  const metrics = createMetrics(core, storageErrors);
  const auth = authEnabled(config);
  if (config.corsOrigin.split(",").some((o) => o.trim() === "*") && !auth) {
    await core.close();
    throw new SwitchboardError("INVALID_CONFIG", 'cors-origin "*" needs auth on: any web page could drive this server');
  }
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    tls = tlsFiles(config);
  } catch (err) {
    await core.close();
    throw err;
  }
  let uploads: Awaited<ReturnType<typeof uploadDeps>>;
  try {
    uploads = await uploadDeps(config, deps.clock ?? systemClock);
  } catch (err) {
    await core.close();
    throw err;
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
    objects: uploads.objects,
    uploadStatus: uploads.status,
    upload: {
      maxEntries: config.uploadMaxEntries,
      maxUncompressedBytes: config.uploadMaxUncompressedBytes,
      maxZipBytes: config.uploadMaxBytes,
      maxQueued: config.uploadMaxQueued,
      tempDir: uploads.tempDir,
    },
    auth: { enabled: auth, rateLimit: config.rateLimit, failuresPerMinute: config.authFailuresPerMinute },
    ...(deps.random ? { random: deps.random } : {}),
  });
  const { services } = runtime;
  await services.uploads.recover();
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
      maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      requestBodyTimeoutMs: config.requestBodyTimeout,
      headersTimeoutMs: config.headersTimeout,
      ...(tls ? { tls } : {}),
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
          host: auth && m.credentials === "none" && !hasAllowList(m, options) ? "127.0.0.1" : config.host,
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
    await services.uploads.close();
    await core.close();
    await uploads.dispose();
    throw err;
  }
  runtime.start();
  ready = true;
  const httpListener = listeners.find((l) => l.transport === "http" && l.protocol === "http");
  const urlHost = httpListener?.host.includes(":") ? `[${httpListener.host}]` : httpListener?.host;
  const url = httpListener ? `${tls ? "https" : "http"}://${urlHost}:${httpListener.port}` : "";
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
    // Middleware shows as ALL on a wildcard path; ALL on a plain path is a route (GraphQL takes GET and POST).
    routes: () => [
      ...new Set(
        http.app.routes.filter((r) => r.method !== "ALL" || !r.path.endsWith("*")).map((r) => `${r.method} ${r.path}`),
      ),
    ],
    close() {
      closing ??= (async () => {
        ready = false;
        log.info("shutting down");
        // The upload being processed may still write its record: the core closes after it.
        await Promise.all([
          stopAll(config.shutdownTimeout),
          runtime.close(),
          services.uploads.close().then(() => core.close()),
        ]);
        await uploads.dispose();
        metrics.close();
        log.info({ revision: core.revision }, "stopped");
      })();
      return closing;
    },
  };
}

/** Whether a credential-less module was given allowed networks (it then binds --host and gates peers itself). */
function hasAllowList(m: { allowOption?: string }, options: unknown): boolean {
  if (m.allowOption === undefined) return false;
  const list = (options as Record<string, unknown>)[m.allowOption];
  return Array.isArray(list) && list.length > 0;
}

/** --tls-cert and --tls-key, read at start (both or neither). */
function tlsFiles(config: Config): { cert: Buffer; key: Buffer } | undefined {
  if (config.tlsCert === undefined && config.tlsKey === undefined) return undefined;
  if (config.tlsCert === undefined || config.tlsKey === undefined) {
    throw new SwitchboardError("INVALID_CONFIG", "--tls-cert and --tls-key go together");
  }
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new SwitchboardError("INVALID_CONFIG", `--${flag} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: read(config.tlsCert, "tls-cert"), key: read(config.tlsKey, "tls-key") };
}
