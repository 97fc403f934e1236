// Mongo-style filters shared by registry queries and conditional wakes: one operator allow-list, checked up front.

import { Query } from "mingo";
import { type JsonObject, SwitchboardError, type Where, type WhereDoc } from "../core/index.js";
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
/** Compiled wake filters kept (least recently used beyond this are compiled again when next used). */
const MAX_COMPILED = 1000;

export function refuseFilter(message: string, details?: unknown): never {
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
  if (!isObject(filter)) refuseFilter("the filter must be a JSON object");
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: filter, depth: 0, path: "" }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (++nodes > MAX_FILTER_NODES) refuseFilter(`the filter has more than ${MAX_FILTER_NODES} parts`);
    if (depth > MAX_FILTER_DEPTH) refuseFilter(`the filter nests deeper than ${MAX_FILTER_DEPTH} levels`, { path });
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
        if (!ALLOWED.has(key)) refuseFilter(`operator ${key} is not allowed`, { path: at, operator: key });
        if (key === "$regex") checkRegex(v, value.$options, at);
        if (key === "$options" && (typeof v !== "string" || !/^[imsx]{0,4}$/.test(v))) {
          refuseFilter("$options must be a string of i, m, s, x", { path: at });
        }
      }
      stack.push({ value: v, depth: depth + 1, path: at });
    }
  }
  return filter as JsonObject;
}

function checkRegex(pattern: unknown, options: unknown, path: string): void {
  if (typeof pattern !== "string") refuseFilter("$regex must be a string", { path });
  const unsafe = unsafeRegexReason(pattern, MAX_REGEX_LENGTH);
  if (unsafe) refuseFilter(`$regex ${unsafe}`, { path });
  try {
    new RegExp(pattern, typeof options === "string" ? options.replace(/x/g, "") : "");
  } catch (err) {
    refuseFilter(`$regex does not compile: ${(err as Error).message}`, { path });
  }
}

/** JSON with object keys sorted at every level (non-recursive): equal filters get one key. */
export function canonicalJson(value: unknown): string {
  type Frame = { readonly parts: string[]; readonly items: [string | null, unknown][]; at: number; array: boolean };
  const open = (v: unknown): Frame | string => {
    if (Array.isArray(v)) return { parts: [], items: v.map((x) => [null, x]), at: 0, array: true };
    if (isObject(v)) {
      const keys = Object.keys(v).sort();
      return { parts: [], items: keys.map((k) => [k, v[k]]), at: 0, array: false };
    }
    return JSON.stringify(v) ?? "null";
  };
  const root = open(value);
  if (typeof root === "string") return root;
  const stack: Frame[] = [root];
  for (;;) {
    const top = stack[stack.length - 1]!;
    if (top.at === top.items.length) {
      stack.pop();
      const text = top.array ? `[${top.parts.join(",")}]` : `{${top.parts.join(",")}}`;
      const parent = stack[stack.length - 1];
      if (!parent) return text;
      const [k] = parent.items[parent.at - 1]!;
      parent.parts.push(k === null ? text : `${JSON.stringify(k)}:${text}`);
      continue;
    }
    const [k, v] = top.items[top.at++]!;
    const child = open(v);
    if (typeof child === "string") top.parts.push(k === null ? child : `${JSON.stringify(k)}:${child}`);
    else stack.push(child);
  }
}

/**
 * Wake filters (`where=` on polls and event streams): checked against the allow-list, compiled by
 * mingo once per distinct filter (keyed by canonical JSON) and shared by every caller that sends it.
 */
export class WhereFilters {
  readonly #compiled = new Map<string, Where>();
  #compilations = 0;

  /** Filters compiled so far (a repeated filter is not compiled again while it is cached). */
  get compilations(): number {
    return this.#compilations;
  }

  /** Parses a `where` parameter (JSON text) into a shared compiled filter; INVALID_FILTER when refused. */
  parse(text: string): Where {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      refuseFilter("where is not valid JSON");
    }
    return this.compile(raw);
  }

  compile(raw: unknown): Where {
    const filter = checkFilter(raw);
    const key = canonicalJson(filter);
    const hit = this.#compiled.get(key);
    if (hit) {
      this.#compiled.delete(key);
      this.#compiled.set(key, hit);
      return hit;
    }
    let query: Query;
    try {
      query = new Query(filter, {});
    } catch (err) {
      refuseFilter(`the filter cannot be compiled: ${(err as Error).message}`);
    }
    this.#compilations++;
    const where: Where = { key, test: (doc: WhereDoc) => query.test(doc as unknown as Record<string, unknown>) };
    this.#compiled.set(key, where);
    if (this.#compiled.size > MAX_COMPILED) this.#compiled.delete(this.#compiled.keys().next().value!);
    return where;
  }
}
