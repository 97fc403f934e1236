// The HealthCache contract against the in-memory adapter, on a fake clock; plus its entry bound.

import { describe, expect, it } from "vitest";
import { createMemoryHealthCache } from "../../src/storage/memory/health-cache.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { describeHealthCacheContract } from "./health-cache.js";

describeHealthCacheContract("memory", async () => {
  const clock = new FakeClock();
  return {
    cache: createMemoryHealthCache({ clock }),
    pass: async (ms) => clock.advance(ms),
  };
});

describe("memory HealthCache bound", () => {
  it("drops the oldest writes beyond maxEntries", async () => {
    const cache = createMemoryHealthCache({ clock: new FakeClock(), maxEntries: 2 });
    await cache.set("a", "1", 1000);
    await cache.set("b", "2", 1000);
    await cache.set("a", "3", 1000); // a is now the newest write
    await cache.set("c", "4", 1000);
    expect(await cache.get("b")).toBeNull();
    expect(await cache.get("a")).toBe("3");
    expect(await cache.get("c")).toBe("4");
  });
});
