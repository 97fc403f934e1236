// Request parsing shared by the REST routes: JSON bodies via zod, selectors, indexes and waits from the query.

import type { Context } from "hono";
import { getQueryParams } from "hono/utils/url";
import type { z } from "zod";
import { type DeleteInput, type Selector, SwitchboardError } from "../../core/index.js";
import { parseDuration } from "../../duration.js";
import { type BodySchema, issueCode } from "./body-schema.js";

/** `registers[3].ttl`: the path of a zod issue as a reader writes it. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out;
}

/**
 * Reads and validates a JSON body. The error is the code of the first problem (TTL_OUT_OF_RANGE,
 * INVALID_DURATION, INVALID_NAME, else INVALID_BODY); `details` lists every problem with its path and code.
 */
export async function readBody<T>(c: Context, schema: BodySchema<T> | z.ZodType<T>): Promise<T> {
  return parseBody(await c.req.text(), schema);
}

/** Validates a JSON body already read as text (the node-level routes read it themselves); errors as readBody. */
export function parseBody<T>(text: string, schema: BodySchema<T> | z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SwitchboardError("INVALID_BODY", "the body is not valid JSON");
  }
  // A BodySchema picks the schema from the raw body (batch or single); a plain zod schema is used as it is.
  const parsed = (typeof schema === "function" ? schema(raw) : schema).safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      path: issuePath(i.path),
      code: issueCode(i),
      message: i.message,
    }));
    const first = details[0]!;
    throw new SwitchboardError(first.code, `${first.path || "body"}: ${first.message}`, { details });
  }
  return parsed.data;
}

/**
 * Every value of one query parameter, decoded as hono decodes it. The hono routes read it from the
 * Context, the node-level poll routes from the parsed URL: both validate through the functions below.
 */
export type Query = (key: string) => string[] | undefined;

/** The query of a hono request. */
export function queryOf(c: Context): Query {
  return (key) => c.req.queries(key);
}

/** The query of a raw request target (`/consumer?name=a`), parsed once by hono's own parser. */
export function parseQuery(target: string): Query {
  const all = getQueryParams(`http://h${target}`) as Record<string, string[]>;
  return (key) => all[key];
}

const asQuery = (c: Context | Query): Query => (typeof c === "function" ? c : queryOf(c));

export function selectorFromQuery(c: Context | Query): Selector {
  const q = asQuery(c);
  return { names: q("name") ?? [], prefixes: q("prefix") ?? [] };
}

/** A query parameter that may appear at most once: repeating it is INVALID_QUERY, never silently resolved. */
export function singleQuery(c: Context | Query, key: string): string | undefined {
  const all = asQuery(c)(key);
  if (!all || all.length === 0) return undefined;
  if (all.length > 1) {
    throw new SwitchboardError("INVALID_QUERY", `${key} may be given once`, { details: { [key]: all } });
  }
  return all[0];
}

/** A single optional non-negative integer query parameter. */
export function intParam(c: Context | Query, key: string): number | undefined {
  const v = singleQuery(c, key);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) {
    throw new SwitchboardError("INVALID_INDEX", `${key} must be a non-negative integer`, { details: { [key]: v } });
  }
  return Number(v);
}

/** The wait of a long-poll in ms: `wait` if given, else the default (only applied when the poll blocks). */
export function waitParam(c: Context | Query, fallbackMs: number): number {
  const v = singleQuery(c, "wait");
  return v === undefined ? fallbackMs : parseDuration(v, "wait");
}

/**
 * DELETE's conditions: `ifVersion=` / `ifModRevision=` given once apply to every name, or given
 * once per name pair with the names in order (name=a&ifVersion=3&name=b&ifVersion=1).
 */
export function deleteConditions(c: Context, names: readonly string[]): DeleteInput[] {
  const per = (key: "ifVersion" | "ifModRevision"): (number | undefined)[] => {
    const all = c.req.queries(key) ?? [];
    if (all.length === 0) return names.map(() => undefined);
    if (all.length !== 1 && all.length !== names.length) {
      throw new SwitchboardError("INVALID_QUERY", `give ${key} once, or once per name`, { details: { [key]: all } });
    }
    const values = all.map((v) => {
      if (!/^\d{1,15}$/.test(v)) {
        throw new SwitchboardError("INVALID_QUERY", `${key} must be a non-negative integer`, { details: { [key]: v } });
      }
      return Number(v);
    });
    return names.map((_, i) => (values.length === 1 ? values[0] : values[i]));
  };
  const versions = per("ifVersion");
  const revisions = per("ifModRevision");
  return names.map((name, i) => ({
    name,
    ...(versions[i] === undefined ? {} : { ifVersion: versions[i] }),
    ...(revisions[i] === undefined ? {} : { ifModRevision: revisions[i] }),
  }));
}

/** An optional boolean query flag: true/1 or false/0 (absent = false). */
export function flagParam(c: Context | Query, key: string): boolean {
  const all = asQuery(c)(key);
  if (!all || all.length === 0) return false;
  const v = all[0]!;
  if (all.length > 1 || !["true", "false", "1", "0"].includes(v)) {
    throw new SwitchboardError("INVALID_QUERY", `${key} must be true or false`, { details: { [key]: all } });
  }
  return v === "true" || v === "1";
}

/** `changes=all` (the default: the whole selection) or `changes=only` (a poll with an index answers only what changed after it). */
export function changesParam(c: Context | Query): boolean {
  const v = singleQuery(c, "changes");
  if (v === undefined || v === "all") return false;
  if (v === "only") return true;
  throw new SwitchboardError("INVALID_QUERY", "changes must be all or only", { details: { changes: v } });
}
