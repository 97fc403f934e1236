// zod schemas of the REST bodies (validation at the edge; the core still enforces its limits).

import { z } from "zod";
import type { Json, JsonObject } from "../../core/index.js";
import { parseDuration } from "../../duration.js";

// Values arrive from JSON.parse, so they are JSON already: checking presence is enough and keeps the hot path fast.
const anyJson = z.custom<Json>((v) => v !== undefined, { message: "value is required" });
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

/** A compare-and-set condition: the register's current version / modRevision (0 = must not exist). */
const condition = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional();

/** A duration (seconds or "30s"), parsed to ms. */
const duration = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    try {
      return parseDuration(v, "expiresIn");
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  })
  .optional();

export const registerInput = z.object({
  name: z.string(),
  value: anyJson,
  metadata: jsonObject.optional(),
  ttl,
  ifVersion: condition,
  ifModRevision: condition,
});

export const providerPutBody = z.union([
  z.object({ registers: z.array(registerInput).min(1) }),
  registerInput.transform((r) => ({ registers: [r] })),
]);

export const requestInput = z.object({
  name: z.string(),
  value: anyJson,
  requester: z.string().max(256).optional(),
  /** Idempotency key: a retry with the same key (same register) answers the first request's id. */
  requestKey: z.string().min(1).max(128).optional(),
  /** How long the request waits for a provider poll (0 = forever); omitted: --request-ttl. */
  expiresIn: duration,
  ifVersion: condition,
  ifModRevision: condition,
});

export const consumerPutBody = z.union([
  z.object({ requests: z.array(requestInput).min(1) }),
  requestInput.transform((r) => ({ requests: [r] })),
]);

/** PUT /provider/acks: a provider's outcomes for requests it handled. */
export const acksBody = z.object({
  acks: z
    .array(
      z.object({
        id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        status: z.enum(["done", "rejected", "failed"]),
        result: anyJson.optional(),
        message: z.string().max(1024).optional(),
      }),
    )
    .min(1),
});
