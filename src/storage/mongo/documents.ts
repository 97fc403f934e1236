// Mongo document shapes of registers, change requests and counters: encoding, and zod validation on load.

import { z } from "zod";
import { SwitchboardError } from "../../core/errors.js";
import type { ChangeRequest, FinishedOutcome, Json, JsonObject, Register } from "../../core/types.js";

export const COLLECTIONS = {
  registers: "registers",
  requests: "change_requests",
  /** Final outcomes of the request history (pruned by the core's --request-history on load and compaction). */
  outcomes: "request_outcomes",
  meta: "meta",
} as const;

/** The counters document of `meta`; `_id` stays an ObjectId, so it is found by `key`. */
export const META_KEY = "state";
/** The document of `meta` holding the database's epoch (history id), inserted once when first loaded. */
export const EPOCH_KEY = "epoch";

/**
 * True when every object key can be stored as a BSON field name on every server the driver
 * supports: no leading `$` (operators), no `.` (paths; servers before 5.0 refuse them in
 * replacements) and no NUL (BSON cannot encode it). Other values are stored as JSON text.
 */
export function isStorableJson(value: Json): boolean {
  if (value === null || typeof value !== "object") return true;
  if (Array.isArray(value)) return value.every(isStorableJson);
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith("$") || key.includes(".") || key.includes("\0")) return false;
    if (!isStorableJson(v)) return false;
  }
  return true;
}

/**
 * A register as stored: the Register fields, with `value`/`metadata` as native BSON when
 * storable, else `null`/`{}` plus `valueJson`/`metadataJson` holding the exact JSON text.
 */
export function registerToDoc(r: Register): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: r.name };
  if (isStorableJson(r.value)) doc.value = r.value;
  else Object.assign(doc, { value: null, valueJson: JSON.stringify(r.value) });
  if (isStorableJson(r.metadata)) doc.metadata = r.metadata;
  else Object.assign(doc, { metadata: {}, metadataJson: JSON.stringify(r.metadata) });
  doc.createRevision = r.createRevision;
  doc.modRevision = r.modRevision;
  doc.version = r.version;
  doc.createdAt = r.createdAt;
  doc.updatedAt = r.updatedAt;
  doc.expiresAt = r.expiresAt;
  if (r.ttlMs !== undefined) doc.ttlMs = r.ttlMs;
  return doc;
}

export function requestToDoc(q: ChangeRequest): Record<string, unknown> {
  const doc: Record<string, unknown> = { id: q.id, name: q.name };
  if (isStorableJson(q.value)) doc.value = q.value;
  else Object.assign(doc, { value: null, valueJson: JSON.stringify(q.value) });
  doc.requestedAt = q.requestedAt;
  if (q.requester !== undefined) doc.requester = q.requester;
  if (q.expiresAt !== undefined) doc.expiresAt = q.expiresAt;
  if (q.requestKey !== undefined) doc.requestKey = q.requestKey;
  if (q.deliveredAt !== undefined) doc.deliveredAt = q.deliveredAt;
  return doc;
}

/** A final outcome as stored; a result that BSON cannot hold as it is goes as JSON text (like values). */
export function outcomeToDoc(o: FinishedOutcome): Record<string, unknown> {
  const { result, ...rest } = o;
  const doc: Record<string, unknown> = { ...rest };
  if (result !== undefined) {
    if (isStorableJson(result)) doc.result = result;
    else doc.resultJson = JSON.stringify(result);
  }
  return doc;
}

const count = z.number().int().nonnegative();
const epochMs = z.number().finite();
const jsonText = z.string().refine(
  (s) => {
    try {
      JSON.parse(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "not valid JSON text" },
);

const registerDocSchema = z.object({
  name: z.string().min(1).max(256),
  value: z.json(),
  valueJson: jsonText.optional(),
  metadata: z.record(z.string(), z.json()),
  metadataJson: jsonText.optional(),
  createRevision: count,
  modRevision: count,
  version: z.number().int().positive(),
  createdAt: epochMs,
  updatedAt: epochMs,
  expiresAt: epochMs.nullable(),
  ttlMs: z.number().finite().nonnegative().optional(),
});

const requestDocSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1).max(256),
  value: z.json(),
  valueJson: jsonText.optional(),
  requestedAt: epochMs,
  requester: z.string().optional(),
  expiresAt: epochMs.optional(),
  requestKey: z.string().optional(),
  deliveredAt: epochMs.optional(),
});

const outcomeDocSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1).max(256),
  status: z.enum(["done", "rejected", "failed", "expired", "dropped"]),
  requestedAt: epochMs,
  requester: z.string().optional(),
  requestKey: z.string().optional(),
  finishedAt: epochMs,
  result: z.json().optional(),
  resultJson: jsonText.optional(),
  message: z.string().optional(),
});

const metaDocSchema = z.object({ key: z.literal(META_KEY), revision: count, lastRequestId: count });

export interface MetaCounters {
  readonly revision: number;
  readonly lastRequestId: number;
}

function parse<T extends z.ZodType>(schema: T, collection: string, doc: Record<string, unknown>): z.infer<T> {
  const { _id, ...fields } = doc;
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  throw new SwitchboardError("STORAGE_CORRUPT", `an invalid document in the Mongo collection "${collection}"`, {
    details: { collection, _id: String(_id), issues: result.error.issues },
  });
}

export function docToRegister(doc: Record<string, unknown>): Register {
  const d = parse(registerDocSchema, COLLECTIONS.registers, doc);
  return {
    name: d.name,
    value: d.valueJson === undefined ? (d.value as Json) : (JSON.parse(d.valueJson) as Json),
    metadata: d.metadataJson === undefined ? (d.metadata as JsonObject) : parseMetadata(d.metadataJson, d.name),
    createRevision: d.createRevision,
    modRevision: d.modRevision,
    version: d.version,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    expiresAt: d.expiresAt,
    ...(d.ttlMs === undefined || d.expiresAt === null ? {} : { ttlMs: d.ttlMs }),
  };
}

function parseMetadata(text: string, name: string): JsonObject {
  const parsed = JSON.parse(text) as Json;
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed;
  throw new SwitchboardError("STORAGE_CORRUPT", `register "${name}" has metadataJson that is not an object`, {
    details: { collection: COLLECTIONS.registers, name },
  });
}

export function docToRequest(doc: Record<string, unknown>): ChangeRequest {
  const d = parse(requestDocSchema, COLLECTIONS.requests, doc);
  const value = d.valueJson === undefined ? (d.value as Json) : (JSON.parse(d.valueJson) as Json);
  return {
    id: d.id,
    name: d.name,
    value,
    requestedAt: d.requestedAt,
    ...(d.requester === undefined ? {} : { requester: d.requester }),
    ...(d.expiresAt === undefined ? {} : { expiresAt: d.expiresAt }),
    ...(d.requestKey === undefined ? {} : { requestKey: d.requestKey }),
    ...(d.deliveredAt === undefined ? {} : { deliveredAt: d.deliveredAt }),
  };
}

export function docToOutcome(doc: Record<string, unknown>): FinishedOutcome {
  const d = parse(outcomeDocSchema, COLLECTIONS.outcomes, doc);
  const result = d.resultJson === undefined ? (d.result as Json | undefined) : (JSON.parse(d.resultJson) as Json);
  return {
    id: d.id,
    name: d.name,
    status: d.status,
    requestedAt: d.requestedAt,
    ...(d.requester === undefined ? {} : { requester: d.requester }),
    ...(d.requestKey === undefined ? {} : { requestKey: d.requestKey }),
    finishedAt: d.finishedAt,
    ...(result === undefined ? {} : { result }),
    ...(d.message === undefined ? {} : { message: d.message }),
  };
}

const epochDocSchema = z.object({ key: z.literal(EPOCH_KEY), epoch: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/) });

export function docToEpoch(doc: Record<string, unknown>): string {
  return parse(epochDocSchema, COLLECTIONS.meta, doc).epoch;
}

export function docToMeta(doc: Record<string, unknown>): MetaCounters {
  const d = parse(metaDocSchema, COLLECTIONS.meta, doc);
  return { revision: d.revision, lastRequestId: d.lastRequestId };
}
