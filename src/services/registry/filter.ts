// Mongo-style filters over registry documents: the shared allow-list (../filters.ts) checked up front, then mingo evaluates.

import { find } from "mingo";
import type { Json, JsonObject } from "../../core/index.js";
import { checkFilter, refuseFilter } from "../filters.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

export interface FilterQuery {
  readonly filter: JsonObject;
  readonly limit?: number;
  readonly skip?: number;
  readonly sort?: Record<string, 1 | -1>;
}

/** Runs a checked filter over the documents; mingo's own refusals become INVALID_FILTER too. */
export function runFilter(docs: readonly JsonObject[], q: FilterQuery): JsonObject[] {
  const filter = checkFilter(q.filter);
  const limit = q.limit ?? DEFAULT_LIMIT;
  try {
    let cursor = find<JsonObject>(docs as JsonObject[], filter as Record<string, Json>);
    if (q.sort && Object.keys(q.sort).length > 0) cursor = cursor.sort(q.sort);
    if (q.skip) cursor = cursor.skip(q.skip);
    return cursor.limit(limit).all();
  } catch (err) {
    return refuseFilter(`the filter cannot be evaluated: ${(err as Error).message}`);
  }
}
