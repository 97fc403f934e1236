// zod shapes of the discovery bodies: a registration (endpoint fields plus type, id, ttl, metadata) and a heartbeat.

import { z } from "zod";
import type { Json, JsonObject } from "../../core/index.js";
import { parseDuration } from "../../duration.js";

const jsonObject = z.record(
  z.string(),
  z.custom<Json>(() => true),
) as unknown as z.ZodType<JsonObject>;

const ttl = z
  .union([z.number(), z.string(), z.null()])
  .transform((v, ctx) => {
    if (v === null) return null;
    try {
      return parseDuration(v, "ttl");
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  })
  .optional();

/**
 * POST /services. `type`, `id`, `ttl` and `metadata` steer the registration; every other field
 * (host, port, protocol, tags, health_check_api, check, anything else) is the endpoint value.
 */
export const registerBody = z
  .object({
    type: z.string(),
    id: z.string().optional(),
    ttl,
    metadata: jsonObject.optional(),
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535),
    protocol: z.string().max(64).optional(),
    tags: z.array(z.string().max(128)).max(64).optional(),
    health_check_api: z.string().max(2048).optional(),
    check: z.enum(["tcp", "ttl"]).optional(),
  })
  .catchall(z.custom<Json>(() => true));

export type RegisterBody = z.output<typeof registerBody>;

/** PUT …/heartbeat: an empty body renews the lease registered; `ttl` sets a new one (a heartbeat cannot end a lease). */
export const heartbeatBody = z
  .object({
    ttl: ttl.refine((v) => v === undefined || (v !== null && v > 0), { message: "ttl must be a positive duration" }),
  })
  .strict();
