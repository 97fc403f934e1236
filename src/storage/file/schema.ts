// zod schemas for what the file store reads back: mutations in log lines and the snapshot document.

import { z } from "zod";
import type { Json, JsonObject, Mutation, Snapshot } from "../../core/types.js";

// Loose objects: a field written by a newer version is kept, not silently stripped.
const revision = z.number().int().nonnegative();
const epochMs = z.number();
// Everything validated here comes out of JSON.parse, so any present value is JSON already: checking values deeply
// (z.json()) would only cost load time, about two thirds of it on a large log.
const json = z.custom<Json>((v) => v !== undefined);
const jsonObject = z.custom<JsonObject>((v) => typeof v === "object" && v !== null && !Array.isArray(v));

const register = z.looseObject({
  ttlMs: z.number().nonnegative().exactOptional(),
  name: z.string(),
  value: json,
  metadata: jsonObject,
  createRevision: revision,
  modRevision: revision,
  version: z.number().int().positive(),
  createdAt: epochMs,
  updatedAt: epochMs,
  expiresAt: epochMs.nullable(),
});

const changeRequest = z.looseObject({
  id: z.number().int().nonnegative(),
  name: z.string(),
  value: json,
  requestedAt: epochMs,
  requester: z.string().exactOptional(),
  expiresAt: epochMs.exactOptional(),
  requestKey: z.string().exactOptional(),
  deliveredAt: epochMs.exactOptional(),
});

const finishedOutcome = z.looseObject({
  id: z.number().int().nonnegative(),
  name: z.string(),
  status: z.enum(["done", "rejected", "failed", "expired", "dropped"]),
  requestedAt: epochMs,
  requester: z.string().exactOptional(),
  requestKey: z.string().exactOptional(),
  finishedAt: epochMs,
  result: json.exactOptional(),
  message: z.string().exactOptional(),
});

export const mutationSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("set"), name: z.string(), revision, register }),
  z.looseObject({ type: z.literal("delete"), name: z.string(), revision }),
  z.looseObject({ type: z.literal("expire"), name: z.string(), revision }),
  z.looseObject({ type: z.literal("request"), name: z.string(), revision, request: changeRequest }),
  z.looseObject({
    type: z.literal("ack"),
    name: z.string(),
    revision,
    upTo: z.number().int().nonnegative(),
    ids: z.array(z.number().int().nonnegative()).exactOptional(),
    outcomes: z
      .array(
        z.looseObject({
          id: z.number().int().nonnegative(),
          status: z.enum(["done", "rejected", "failed"]),
          result: json.exactOptional(),
          message: z.string().exactOptional(),
        }),
      )
      .exactOptional(),
    reason: z.enum(["acknowledged", "expired", "deleted", "request_expired"]),
  }),
  z.looseObject({ type: z.literal("finish"), name: z.string(), outcomes: z.array(finishedOutcome) }),
  z.looseObject({
    type: z.literal("deliver"),
    name: z.string(),
    ids: z.array(z.number().int().nonnegative()),
    at: epochMs,
  }),
  z.looseObject({
    type: z.literal("refresh"),
    name: z.string(),
    expiresAt: epochMs.nullable(),
    ttlMs: z.number().nonnegative().exactOptional(),
  }),
]) satisfies z.ZodType<Mutation>;

export const commitSchema = z.array(mutationSchema) satisfies z.ZodType<Mutation[]>;

/** The format of the legacy snapshot.json: one JSON document (read only, never written any more). */
export const LEGACY_SNAPSHOT_FORMAT = 1;

/** snapshot.json (legacy): the Snapshot plus the number of the log segment that follows it. */
export const legacySnapshotFileSchema = z.looseObject({
  format: z.literal(LEGACY_SNAPSHOT_FORMAT),
  segment: z.number().int().positive(),
  epoch: z.string().exactOptional(),
  revision,
  lastRequestId: z.number().int().nonnegative(),
  registers: z.array(register),
  requests: z.array(changeRequest),
});

export const SNAPSHOT_FORMAT = 2;

/** The lines of snapshot.jsonl: a head, chunks of registers, chunks of requests, an end with the counts. */
export const snapshotHeadSchema = z.looseObject({
  format: z.literal(SNAPSHOT_FORMAT),
  segment: z.number().int().positive(),
  revision,
  lastRequestId: z.number().int().nonnegative(),
});
export const snapshotChunkSchema = z.union([
  z.strictObject({ registers: z.array(register) }),
  z.strictObject({ requests: z.array(changeRequest) }),
  z.strictObject({ outcomes: z.array(finishedOutcome) }),
  z.strictObject({
    end: z.strictObject({
      registers: z.number().int(),
      requests: z.number().int(),
      outcomes: z.number().int().exactOptional(),
    }),
  }),
]);

export interface SnapshotFile {
  readonly segment: number;
  readonly snapshot: Snapshot;
}
