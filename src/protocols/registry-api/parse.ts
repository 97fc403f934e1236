// Query parameters of the registry API (bodies go through the REST module's readBody, one shape for every route).

import type { Context } from "hono";
import { SwitchboardError } from "../../core/index.js";

export { readBody } from "../http/parse.js";

/** One query parameter, not repeated; INVALID_QUERY when required and missing. */
export function oneQuery(c: Context, key: string, required: true): string;
export function oneQuery(c: Context, key: string, required: false): string | undefined;
export function oneQuery(c: Context, key: string, required: boolean): string | undefined {
  const all = c.req.queries(key);
  if (!all || all.length === 0) {
    if (required) throw new SwitchboardError("INVALID_QUERY", `query parameter ${key} is required`);
    return undefined;
  }
  if (all.length > 1) throw new SwitchboardError("INVALID_QUERY", `query parameter ${key} is repeated`);
  return all[0];
}

/** An optional integer parameter within [min, max]. */
export function intQuery(c: Context, key: string, fallback: number, min: number, max: number): number {
  const v = oneQuery(c, key, false);
  if (v === undefined) return fallback;
  if (!/^\d{1,7}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new SwitchboardError("INVALID_QUERY", `${key} must be an integer from ${min} to ${max}`, {
      details: { [key]: v },
    });
  }
  return Number(v);
}
