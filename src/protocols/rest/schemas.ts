// zod schemas of the REST bodies (validation at the edge; the core still enforces its limits). A failed check carries
// the documented error code in its issue (params.code), so the answer names the exact field and code.

import { z } from "zod";
import type { Json, JsonObject } from "../../core/index.js";
import { parseDuration } from "../../duration.js";
import { type BodySchema, coded } from "../http/body-schema.js";

// Values arrive from JSON.parse, so they are JSON already: checking presence is enough and keeps the hot path fast.
const anyJson = z.custom<Json>((v) => v !== undefined, { message: "value is required" });
const jsonObject = z.record(
  z.string(),
  z.custom<Json>(() => true),
) as unknown as z.ZodType<JsonObject>;

const name = z.string({ error: "name must be a string" });

const ttl = z
  .union([z.number(), z.string(), z.null()], {
    error: "ttl must be seconds, a duration string or null",
    ...coded("INVALID_DURATION"),
  })
  .transform((v, ctx) => {
    if (v === null) return null;
    if (typeof v === "number" && v < 0) {
      ctx.addIssue({ code: "custom", message: "ttl must not be negative", ...coded("TTL_OUT_OF_RANGE") });
      return z.NEVER;
    }
    try {
      return parseDuration(v, "ttl");
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message, ...coded("INVALID_DURATION") });
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
  name,
  value: anyJson,
  metadata: jsonObject.optional(),
  ttl,
  ifVersion: condition,
  ifModRevision: condition,
});

export const requestInput = z.object({
  name,
  value: anyJson,
  requester: z.string().max(256).optional(),
  /** Idempotency key: a retry with the same key (same register) answers the first request's id. */
  requestKey: z.string().min(1).max(128).optional(),
  /** How long the request waits for a provider poll (0 = forever); omitted: --request-ttl. */
  expiresIn: duration,
  ifVersion: condition,
  ifModRevision: condition,
});

function batchOr<K extends string, E extends z.ZodType>(key: K, entry: E): BodySchema<Record<K, z.output<E>[]>> {
  const batch = z.object({ [key]: z.array(entry).min(1) } as Record<K, z.ZodArray<E>>);
  const single = entry.transform((e) => ({ [key]: [e] }) as Record<K, z.output<E>[]>);
  return (raw) =>
    (typeof raw === "object" && raw !== null && key in raw ? batch : single) as unknown as z.ZodType<
      Record<K, z.output<E>[]>
    >;
}

export const providerPutBody = batchOr("registers", registerInput);
/** A validated PUT /provider body (one entry arrives as a batch of one). */
export type ProviderPutBody = { readonly registers: z.output<typeof registerInput>[] };
export const consumerPutBody = batchOr("requests", requestInput);

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
