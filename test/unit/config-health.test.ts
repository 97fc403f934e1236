// Health, Redis and proxy settings: defaults, the registry deployments' env names, and bad values refused.

import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";

describe("health and proxy settings", () => {
  it("defaults: memory cache, 10 s TTL and period, 2 s probes, proxy off", () => {
    const c = loadConfig({}, {});
    expect(c).toMatchObject({
      redisPrefix: "switchboard:",
      healthCacheTtl: 10_000,
      healthInterval: 10_000,
      healthTimeout: 2000,
      healthConcurrency: 16,
    });
    expect(c.redisUrl).toBeUndefined();
    expect(c.protocols["tcp-proxy"]).toMatchObject({ proxyPort: null, proxyMaxConnections: 10_000 });
  });

  it("accepts REDIS_HOST, REDIS_PORT and HEALTH_CACHE_TTL (seconds)", () => {
    const c = loadConfig({}, { REDIS_HOST: "cache.internal", REDIS_PORT: "6380", HEALTH_CACHE_TTL: "30" });
    expect(c.redisUrl).toBe("redis://cache.internal:6380");
    expect(c.healthCacheTtl).toBe(30_000);
    expect(loadConfig({}, { REDIS_PORT: "7000" }).redisUrl).toBe("redis://localhost:7000");
  });

  it("lets the SWITCHBOARD_ names and flags win over the aliases", () => {
    const env = { REDIS_HOST: "a", SWITCHBOARD_REDIS_URL: "redis://b:1", HEALTH_CACHE_TTL: "30" };
    const c = loadConfig({ healthCacheTtl: "5s" }, env);
    expect(c.redisUrl).toBe("redis://b:1");
    expect(c.healthCacheTtl).toBe(5000);
  });

  it("refuses a Redis URL of another scheme and a bad proxy port", () => {
    expect(() => loadConfig({ redisUrl: "http://x" }, {})).toThrow(/redis-url/);
    expect(() => loadConfig({ proxyPort: "90000" }, {})).toThrow(/proxy-port/);
    expect(loadConfig({ proxyPort: "9000" }, {}).protocols["tcp-proxy"]).toMatchObject({ proxyPort: 9000 });
  });
});
