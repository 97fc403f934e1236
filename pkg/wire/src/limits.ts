// The server's default limits, as clients may plan around them (every one is configurable on the server).

export const DEFAULT_LIMITS = {
  /** Largest serialised value, bytes. */
  maxValueBytes: 64 * 1024,
  /** Largest serialised metadata object, bytes. */
  maxMetadataBytes: 16 * 1024,
  /** Most registers or requests in one batch. */
  maxBatch: 1000,
  /** Most names + prefixes in one read or poll. */
  maxNames: 1000,
  /** Longest long-poll wait, ms. */
  maxWaitMs: 5 * 60_000,
  /** Most pending change requests per register. */
  maxQueue: 1000,
  /** Most long-polls and streams held at once. */
  maxWaiters: 200_000,
  /** Deepest nesting of arrays/objects in a value or metadata. */
  maxDepth: 64,
  /** Longest TTL, ms. */
  maxTtlMs: 366 * 24 * 3600_000,
  /** Largest page of a listing. */
  maxPage: 1000,
} as const;

/** The header every long-poll answer carries the global revision in. */
export const INDEX_HEADER = "X-Switchboard-Index";
