// The limits the core enforces, with their defaults (all configurable at the edge).

import { DEFAULT_LIMITS as WIRE_LIMITS } from "@switchboard/wire";

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

/** The defaults every client can see (from @switchboard/wire), without the listing page cap (core's MAX_PAGE). */
export const DEFAULT_LIMITS: Limits = (({ maxPage: _page, ...limits }) => limits)(WIRE_LIMITS);
