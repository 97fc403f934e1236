// Redis HealthCache (ioredis): `SET <prefix><key> <value> PX <ttl>`, failing fast while Redis is down so callers probe live instead.
//
// Why fail fast: a health lookup sits on the proxy's connection path. ioredis would otherwise queue
// commands while it reconnects and answer them seconds later; with the offline queue off and one
// short command timeout, an outage costs a caller one rejected promise and a live probe. ioredis
// keeps reconnecting in the background (capped backoff), and isHealthy() turns true when it is back.

import { Redis } from "ioredis";
import type { HealthCache } from "../../core/ports.js";

export interface RedisHealthCacheOptions {
  /** redis://[user:pass@]host:port[/db] */
  readonly url: string;
  /** Prefix of every key this cache writes (default "switchboard:"). */
  readonly prefix?: string;
  /** How long one command may take before it counts as a failure, ms (default 500). */
  readonly commandTimeoutMs?: number;
  /** Told when the connection is lost or back, for logs and metrics. */
  readonly onStateChange?: (healthy: boolean, err?: unknown) => void;
}

export function createRedisHealthCache(options: RedisHealthCacheOptions): HealthCache {
  const prefix = options.prefix ?? "switchboard:";
  // null until the first connect attempt settles, so that a Redis down from the start is reported too.
  let healthy: boolean | null = null;
  const setHealthy = (h: boolean, err?: unknown) => {
    if (h === healthy) return;
    healthy = h;
    options.onStateChange?.(h, err);
  };
  const redis = new Redis(options.url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  redis.on("ready", () => setHealthy(true));
  // "error" must have a listener or ioredis rethrows it; the state change carries it to the log.
  redis.on("error", (err) => setHealthy(false, err));
  redis.on("close", () => setHealthy(false));
  return {
    name: "redis",
    async get(key) {
      return redis.get(prefix + key);
    },
    async set(key, value, ttlMs) {
      await redis.set(prefix + key, value, "PX", Math.max(1, Math.ceil(ttlMs)));
    },
    isHealthy: () => healthy === true,
    async close() {
      redis.disconnect();
    },
  };
}
