// Request parsing shared by the REST routes: JSON bodies via zod, selectors, indexes and waits from the query.

import type { Context } from "hono";
import type { z } from "zod";
import { type DeleteInput, type Selector, SwitchboardError } from "../../core/index.js";
import { parseDuration } from "../../duration.js";

/** Reads and validates a JSON body; every failure is INVALID_BODY with the zod issues as details. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SwitchboardError("INVALID_BODY", "the body is not valid JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new SwitchboardError("INVALID_BODY", "the body does not have the expected shape", {
      details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return parsed.data;
}

export function selectorFromQuery(c: Context): Selector {
  return { names: c.req.queries("name") ?? [], prefixes: c.req.queries("prefix") ?? [] };
}

/** A single optional non-negative integer query parameter. */
export function intParam(c: Context, key: string): number | undefined {
  const all = c.req.queries(key);
  if (!all || all.length === 0) return undefined;
  const v = all[0]!;
  if (all.length > 1 || !/^\d{1,15}$/.test(v)) {
    throw new SwitchboardError("INVALID_INDEX", `${key} must be one non-negative integer`, { details: { [key]: all } });
  }
  return Number(v);
}

/** The wait of a long-poll in ms: `wait` if given, else the default (only applied when the poll blocks). */
export function waitParam(c: Context, fallbackMs: number): number {
  const v = c.req.query("wait");
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
export function flagParam(c: Context, key: string): boolean {
  const all = c.req.queries(key);
  if (!all || all.length === 0) return false;
  const v = all[0]!;
  if (all.length > 1 || !["true", "false", "1", "0"].includes(v)) {
    throw new SwitchboardError("INVALID_QUERY", `${key} must be true or false`, { details: { [key]: all } });
  }
  return v === "true" || v === "1";
}
