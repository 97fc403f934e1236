// The HealthCache contract: every adapter (memory, redis) runs these same scenarios.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HealthCache } from "../../src/core/ports.js";

export interface HealthCacheHarness {
  readonly cache: HealthCache;
  /** Lets `ms` pass for the cache: a fake clock's advance, or real time for a real backend. */
  pass(ms: number): Promise<void>;
  /** Releases what the harness opened (after cache.close()). */
  dispose?(): Promise<void>;
}

export function describeHealthCacheContract(name: string, open: () => Promise<HealthCacheHarness>): void {
  describe(`HealthCache contract: ${name}`, () => {
    let h: HealthCacheHarness;
    // Keys unique per run so a shared real backend never sees another run's entries.
    const run = `${process.pid}-${Date.now()}`;
    const key = (k: string) => `contract:${run}:${k}`;

    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cache.close();
      await h.dispose?.();
    });

    it("answers null for a key never set", async () => {
      expect(await h.cache.get(key("absent"))).toBeNull();
    });

    it("returns what was set, and a later set replaces it", async () => {
      await h.cache.set(key("a"), '{"status":"passing"}', 10_000);
      expect(await h.cache.get(key("a"))).toBe('{"status":"passing"}');
      await h.cache.set(key("a"), '{"status":"critical"}', 10_000);
      expect(await h.cache.get(key("a"))).toBe('{"status":"critical"}');
    });

    it("keeps keys apart", async () => {
      await h.cache.set(key("x"), "1", 10_000);
      await h.cache.set(key("y"), "2", 10_000);
      expect(await h.cache.get(key("x"))).toBe("1");
      expect(await h.cache.get(key("y"))).toBe("2");
    });

    it("forgets an entry once its TTL has passed, not before", async () => {
      await h.cache.set(key("short"), "v", 150);
      await h.cache.set(key("long"), "v", 10_000);
      await h.pass(20);
      expect(await h.cache.get(key("short"))).toBe("v");
      await h.pass(250);
      expect(await h.cache.get(key("short"))).toBeNull();
      expect(await h.cache.get(key("long"))).toBe("v");
    });

    it("restarts the TTL when a key is set again", async () => {
      await h.cache.set(key("renew"), "v", 200);
      await h.pass(120);
      await h.cache.set(key("renew"), "w", 200);
      await h.pass(120);
      expect(await h.cache.get(key("renew"))).toBe("w");
    });

    it("reports itself reachable while it is", async () => {
      expect(h.cache.isHealthy?.() ?? true).toBe(true);
    });
  });
}
