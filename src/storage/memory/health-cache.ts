// In-memory HealthCache (when no --redis-url is set): entries expire by the injected clock, and are pruned as they are touched.

import type { Clock, HealthCache } from "../../core/ports.js";

export interface MemoryHealthCacheOptions {
  readonly clock: Clock;
  /** Entries kept at most; the oldest-written go first (one per checked target, so this is generous). */
  readonly maxEntries?: number;
}

export function createMemoryHealthCache(options: MemoryHealthCacheOptions): HealthCache {
  const { clock } = options;
  const maxEntries = options.maxEntries ?? 100_000;
  // A Map keeps insertion order; set() re-inserts, so the first key is always the oldest write.
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    name: "memory",
    async get(key) {
      const e = entries.get(key);
      if (!e) return null;
      if (e.expiresAt <= clock.now()) {
        entries.delete(key);
        return null;
      }
      return e.value;
    },
    async set(key, value, ttlMs) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: clock.now() + ttlMs });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    async close() {
      entries.clear();
    },
  };
}
