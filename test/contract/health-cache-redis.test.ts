// The HealthCache contract against the real Redis (ioredis); the keys read back with a second client; an outage on a Redis of our own.

import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { HealthCache } from "../../src/core/ports.js";
import { createRedisHealthCache } from "../../src/storage/redis/health-cache.js";
import { SHARED_REDIS_URL, startOwnRedis } from "../helpers/redis-server.js";
import { describeHealthCacheContract } from "./health-cache.js";

/** Opens a cache and resolves once it is connected (or rejects after 5 s). */
async function openCache(url: string, prefix: string): Promise<HealthCache> {
  let cache: HealthCache | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no Redis at ${url}`)), 5000);
    cache = createRedisHealthCache({
      url,
      prefix,
      onStateChange: (healthy) => {
        if (!healthy) return;
        clearTimeout(timer);
        resolve();
      },
    });
  });
  return cache!;
}

const prefix = `switchboard-test:${process.pid}:${Date.now()}:`;
const inspector = new Redis(SHARED_REDIS_URL, { lazyConnect: true });
afterAll(async () => {
  const keys = await inspector.keys(`${prefix}*`);
  if (keys.length > 0) await inspector.del(...keys);
  inspector.disconnect();
});

// Redis expires by its own clock, so time passes for real here (the TTLs in the suite are short).
describeHealthCacheContract("redis", async () => ({
  cache: await openCache(SHARED_REDIS_URL, prefix),
  pass: (ms) => sleep(ms),
}));

describe("redis HealthCache specifics", () => {
  it("stores each entry under the prefix with a PX TTL, visible to any Redis client", async () => {
    const cache = await openCache(SHARED_REDIS_URL, prefix);
    try {
      await cache.set("health:services/web/1", '{"status":"passing"}', 10_000);
      expect(await inspector.get(`${prefix}health:services/web/1`)).toBe('{"status":"passing"}');
      const pttl = await inspector.pttl(`${prefix}health:services/web/1`);
      expect(pttl).toBeGreaterThan(9000);
      expect(pttl).toBeLessThanOrEqual(10_000);
      // And what another writer puts there is what the cache reads.
      await inspector.set(`${prefix}health:other`, "x", "PX", 10_000);
      expect(await cache.get("health:other")).toBe("x");
    } finally {
      await cache.close();
    }
  });

  it("fails fast while its Redis is down, and recovers when it is back", async () => {
    const own = await startOwnRedis();
    const cache = await openCache(own.url, "outage:");
    try {
      await cache.set("k", "v", 10_000);
      await own.kill();
      // Bounded: the client notices the closed socket within a few event-loop turns.
      for (let i = 0; i < 100 && cache.isHealthy!(); i++) await sleep(10);
      expect(cache.isHealthy!()).toBe(false);
      const started = Date.now();
      await expect(cache.get("k")).rejects.toThrow();
      await expect(cache.set("k", "w", 1000)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1500);
      await own.restart();
      for (let i = 0; i < 300 && !cache.isHealthy!(); i++) await sleep(10);
      expect(cache.isHealthy!()).toBe(true);
      // A fresh server holds nothing: the cache reports a miss, not the old value.
      expect(await cache.get("k")).toBeNull();
    } finally {
      await cache.close();
      await own.kill();
    }
  });
});
