// The default limits are the documented ones (docs/api.md, docs/configuration.md) and sane relative to each other.

import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../../src/core/limits.js";

describe("DEFAULT_LIMITS", () => {
  it("holds the documented defaults", () => {
    expect(DEFAULT_LIMITS.maxQueue).toBe(1000);
    expect(DEFAULT_LIMITS.maxWaitMs).toBe(5 * 60 * 1000);
    expect(DEFAULT_LIMITS.maxValueBytes).toBe(64 * 1024);
    expect(DEFAULT_LIMITS.maxMetadataBytes).toBe(16 * 1024);
    expect(DEFAULT_LIMITS.maxBatch).toBe(1000);
    expect(DEFAULT_LIMITS.maxNames).toBe(1000);
  });

  it("has only positive integer limits", () => {
    for (const [key, v] of Object.entries(DEFAULT_LIMITS)) {
      expect(Number.isInteger(v), key).toBe(true);
      expect(v, key).toBeGreaterThan(0);
    }
  });
});
