// The composition root: config → storage → core → protocols. The only module that knows them all.

import type { Logger } from "pino";
import type { Config } from "./config.js";
import { type Clock, type Persistence, Switchboard } from "./core/index.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { createRestProtocol } from "./protocols/rest/index.js";
import { createFilePersistence } from "./storage/file/index.js";
import { createMemoryPersistence } from "./storage/memory/index.js";
import { createMongoPersistence } from "./storage/mongo/index.js";

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly core: Switchboard;
  readonly config: Config;
  /** Graceful stop: answers held polls, flushes storage, closes sockets (forced at shutdownTimeout). */
  close(): Promise<void>;
}

export interface ServerDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly persistence?: Persistence;
}

export function createPersistence(config: Config, log: Logger): Persistence {
  if (config.mongoUrl) {
    return createMongoPersistence({
      url: config.mongoUrl,
      database: config.mongoDatabase,
      writeTimeoutMs: config.mongoWriteTimeout,
      writeConcern: config.mongoWriteConcern,
      reconcileIntervalMs: config.mongoReconcileInterval,
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
  const metrics = createMetrics(core);
  const rest = createRestProtocol(
    core,
    {
      defaultWaitMs: config.defaultWait,
      maxBodyBytes: config.maxBodyBytes,
      maxHeaderBytes: 16 * 1024 + config.maxNames * 270,
      corsOrigin: config.corsOrigin,
      isReady: () => ready,
    },
    log.child({ protocol: "rest" }),
    metrics,
  );
  let address: Awaited<ReturnType<typeof rest.start>>;
  try {
    address = await rest.start(config.host, config.port, config.maxWait + config.maxWait / 16);
  } catch (err) {
    metrics.close();
    await core.close();
    throw err;
  }
  ready = true;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info(
    { url, storage: persistence.name, revision: core.revision, registers: core.stats().registers },
    "switchboard listening",
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    host: address.address,
    port: address.port,
    core,
    config,
    close() {
      closing ??= (async () => {
        ready = false;
        log.info("shutting down");
        await Promise.all([rest.stop(config.shutdownTimeout), core.close()]);
        metrics.close();
        log.info({ revision: core.revision }, "stopped");
      })();
      return closing;
    },
  };
}
