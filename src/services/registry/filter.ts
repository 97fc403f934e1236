// Mongo-style filters over registry documents: an operator allow-list checked up front, then mingo evaluates.

import { find } from "mingo";
import { type Json, type JsonObject, SwitchboardError } from "../../core/index.js";
import { unsafeRegexReason } from "./regex-guard.js";

/**
 * Query operators a filter may use. Everything else is refused before mingo sees it — in
 * particular $where, $function, $accumulator and $expr, which run code or whole expressions.
 */
const ALLOWED = new Set([
  "$eq",
  "$ne",
  "$gt",
  "$gte",
  "$lt",
  "$lte",
  "$in",
  "$nin",
  "$exists",
  "$type",
  "$size",
  "$all",
  "$elemMatch",
  "$regex",
  "$options",
  "$not",
  "$and",
  "$or",
  "$nor",
]);

export const MAX_FILTER_DEPTH = 16;
const MAX_FILTER_NODES = 2000;
const MAX_REGEX_LENGTH = 512;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

function refuse(message: string, details?: unknown): never {
  throw new SwitchboardError("INVALID_FILTER", message, details === undefined ? {} : { details });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Walks the filter without recursion (a hostile nest cannot overflow the stack) and refuses
 * unknown operators, deep nests, huge filters and regexes that do not compile or are long.
 */
export function checkFilter(filter: unknown): JsonObject {
  if (!isObject(filter)) refuse("the filter must be a JSON object");
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: filter, depth: 0, path: "" }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (++nodes > MAX_FILTER_NODES) refuse(`the filter has more than ${MAX_FILTER_NODES} parts`);
    if (depth > MAX_FILTER_DEPTH) refuse(`the filter nests deeper than ${MAX_FILTER_DEPTH} levels`, { path });
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        stack.push({ value: v, depth: depth + 1, path: `${path}[${i}]` });
      });
      continue;
    }
    if (!isObject(value)) continue;
    for (const [key, v] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (key.startsWith("$")) {
        if (!ALLOWED.has(key)) refuse(`operator ${key} is not allowed`, { path: at, operator: key });
        if (key === "$regex") checkRegex(v, value.$options, at);
        if (key === "$options" && (typeof v !== "string" || !/^[imsx]{0,4}$/.test(v))) {
          refuse("$options must be a string of i, m, s, x", { path: at });
        }
      }
      stack.push({ value: v, depth: depth + 1, path: at });
    }
  }
  return filter as JsonObject;
}

function checkRegex(pattern: unknown, options: unknown, path: string): void {
  if (typeof pattern !== "string") refuse("$regex must be a string", { path });
  const unsafe = unsafeRegexReason(pattern, MAX_REGEX_LENGTH);
  if (unsafe) refuse(`$regex ${unsafe}`, { path });
  try {
    new RegExp(pattern, typeof options === "string" ? options.replace(/x/g, "") : "");
  } catch (err) {
    refuse(`$regex does not compile: ${(err as Error).message}`, { path });
  }
}

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
    return refuse(`the filter cannot be evaluated: ${(err as Error).message}`);
  }
}
