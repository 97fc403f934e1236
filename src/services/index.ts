// The services layer: what protocols use beyond the core (discovery, health, readiness, registry records).

import type { Logger } from "pino";
import type { HealthCache, ObjectStore, Switchboard } from "../core/index.js";
import { Auth } from "./auth/index.js";
import { Discovery } from "./discovery.js";
import { WhereFilters } from "./filters.js";
import { HealthChecker } from "./health/checker.js";
import { HealthScheduler } from "./health/scheduler.js";
import { ReadinessCheck } from "./readiness.js";
import { RegistryRecords } from "./registry/records.js";
import type { UploadStatusStore } from "./registry/upload-status.js";
import { type UploadOptions, UploadService } from "./registry/uploads.js";

export interface Services {
  readonly auth: Auth;
  readonly discovery: Discovery;
  readonly health: HealthChecker;
  readonly readiness: ReadinessCheck;
  readonly registry: RegistryRecords;
  readonly uploads: UploadService;
  /** Compiled wake filters (`where=`), shared by every protocol. */
  readonly filters: WhereFilters;
}

export interface HealthSettings {
  readonly cache: HealthCache;
  /** How long a verdict is trusted, ms. */
  readonly cacheTtlMs: number;
  /** Deadline of one probe, ms. */
  readonly timeoutMs: number;
  /** Period of the scheduled checks, ms; 0 = checks only on demand (and on a cache miss). */
  readonly intervalMs: number;
  /** Probes running at once. */
  readonly concurrency: number;
}

export interface ServicesOptions {
  readonly started: () => boolean;
  readonly log: Logger;
  readonly health: HealthSettings;
  readonly objects: ObjectStore;
  readonly uploadStatus: UploadStatusStore;
  readonly upload: UploadOptions;
  readonly auth: {
    /** False: every caller may do everything (loopback newcomer mode). */
    readonly enabled: boolean;
    readonly rateLimit?: number;
    readonly failuresPerMinute?: number;
  };
  /** Random source of the schedule's jitter (tests seed it). */
  readonly random?: () => number;
}

/** The services plus what only the composition root does with them: start the background work and stop it. */
export interface ServicesRuntime {
  readonly services: Services;
  start(): void;
  close(): Promise<void>;
}

export function createServices(core: Switchboard, options: ServicesOptions): ServicesRuntime {
  const health = new HealthChecker({
    core,
    cache: options.health.cache,
    log: options.log.child({ service: "health" }),
    cacheTtlMs: options.health.cacheTtlMs,
    timeoutMs: options.health.timeoutMs,
  });
  const scheduler =
    options.health.intervalMs > 0
      ? new HealthScheduler({
          core,
          checker: health,
          clock: core.clock,
          intervalMs: options.health.intervalMs,
          concurrency: options.health.concurrency,
          ...(options.random ? { random: options.random } : {}),
        })
      : null;
  const auth = new Auth(core, {
    enabled: options.auth.enabled,
    rateLimit: options.auth.rateLimit ?? 0,
    failuresPerMinute: options.auth.failuresPerMinute ?? 10,
  });
  const registry = new RegistryRecords(core);
  const services: Services = {
    auth,
    registry,
    uploads: new UploadService(registry, options.objects, options.uploadStatus, options.upload, options.log),
    discovery: new Discovery(core),
    health,
    readiness: new ReadinessCheck(core, options.started, () => health.cacheState()),
    filters: new WhereFilters(),
  };
  return {
    services,
    start: () => {
      if (auth.enabled) auth.follow();
      scheduler?.start();
    },
    async close() {
      auth.stop();
      await scheduler?.stop();
      await options.health.cache.close();
    },
  };
}

export {
  Discovery,
  matchesFilter,
  type ServiceFilter,
  type ServiceRecord,
  serviceName,
  servicePrefix,
  servicePrefixes,
  toService,
} from "./discovery.js";
export type { HealthResult, HealthStatus } from "./health/types.js";
export type { Readiness } from "./readiness.js";
