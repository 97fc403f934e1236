// The composition root: config → storage → core → services → protocols. The only module that knows them all.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { type Clock, type ObjectStore, type Persistence, Switchboard, systemClock } from "./core/index.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { createHttpHost } from "./protocols/http/host.js";
import { PROTOCOLS } from "./protocols/index.js";
import type { Listener, ProtocolInstance, ProtocolModule } from "./protocols/protocol.js";
import { createServices, type Services } from "./services/index.js";
import { registryMirror } from "./services/registry/index.js";
import { memoryStatusStore, redisStatusStore, type UploadStatusStore } from "./services/registry/upload-status.js";
import { createFilePersistence } from "./storage/file/index.js";
import { createMemoryPersistence } from "./storage/memory/index.js";
import { createMongoPersistence } from "./storage/mongo/index.js";
import { createFsObjectStore } from "./storage/objects/fs.js";
import { createS3ObjectStore } from "./storage/objects/s3.js";

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
  /** Graceful stop: answers held polls, flushes storage, closes sockets (forced at shutdownTimeout). */
  close(): Promise<void>;
}

export interface ServerDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly persistence?: Persistence;
  /** Protocol modules to run instead of the standard list (tests add their own). */
  readonly protocols?: readonly ProtocolModule[];
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
    onError: (err, context) => log.error({ err, context }, "background task failed"),
  });
  let ready = false;
  const listeners: Listener[] = [];
  const metrics = createMetrics(core);
  let uploads: Awaited<ReturnType<typeof uploadDeps>>;
  try {
    uploads = await uploadDeps(config, deps.clock ?? systemClock);
  } catch (err) {
    await core.close();
    throw err;
  }
  const services = createServices(core, {
    started: () => ready,
    objects: uploads.objects,
    uploadStatus: uploads.status,
    upload: {
      maxEntries: config.uploadMaxEntries,
      maxUncompressedBytes: config.uploadMaxUncompressedBytes,
      maxZipBytes: config.uploadMaxBytes,
      maxQueued: config.uploadMaxQueued,
      tempDir: uploads.tempDir,
    },
    log: log.child({ service: "uploads" }),
  });
  await services.uploads.recover();
  const http = createHttpHost(
    {
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      maxHeaderBytes: 16 * 1024 + config.maxNames * 270,
      corsOrigin: config.corsOrigin,
      maxHoldMs: config.maxWait + config.maxWait / 16,
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
    metrics.close();
    await services.uploads.close();
    await core.close();
    await uploads.dispose();
    throw err;
  }
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
    close() {
      closing ??= (async () => {
        ready = false;
        log.info("shutting down");
        // The upload being processed may still write its record: the core closes after it.
        await Promise.all([stopAll(config.shutdownTimeout), services.uploads.close().then(() => core.close())]);
        await uploads.dispose();
        metrics.close();
        log.info({ revision: core.revision }, "stopped");
      })();
      return closing;
    },
  };
}
