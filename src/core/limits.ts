// The limits the core enforces, with their defaults (all configurable at the edge).

export interface Limits {
  /** Largest serialised value, bytes. */
  readonly maxValueBytes: number;
  /** Largest serialised metadata object, bytes. */
  readonly maxMetadataBytes: number;
  /** Most registers or requests in one batch. */
  readonly maxBatch: number;
  /** Most names + prefixes in one read or poll. */
  readonly maxNames: number;
  /** Longest long-poll wait, ms. */
  readonly maxWaitMs: number;
  /** Most pending change requests per register. */
  readonly maxQueue: number;
  /** Most long-polls held at once (consumers + providers). */
  readonly maxWaiters: number;
  /** Deepest nesting of arrays/objects in a value or metadata. */
  readonly maxDepth: number;
  /** Longest TTL, ms. */
  readonly maxTtlMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxValueBytes: 64 * 1024,
  maxMetadataBytes: 16 * 1024,
  maxBatch: 1000,
  maxNames: 1000,
  maxWaitMs: 5 * 60_000,
  maxQueue: 1000,
  maxWaiters: 200_000,
  maxDepth: 64,
  maxTtlMs: 366 * 24 * 3600_000,
};
