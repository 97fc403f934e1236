// Mirrors: extra collections in another system's document shape, kept beside the registers (write-only).

import type { Json, JsonObject } from "../../core/index.js";

/**
 * A mirror writes each register under `prefix` as one document of `collection`, keyed by `key`,
 * in a shape that other tools read. The shape is the service's business (it is handed in by the
 * composition root); this adapter only makes keys storable and keeps the collection in step.
 */
export interface MongoMirror {
  readonly collection: string;
  /** The document field that identifies a document (a unique index is made on it). */
  readonly key: string;
  /** The key a register name mirrors to, or null when the name is not mirrored. */
  keyOf(name: string): string | null;
  /** The document for a register's value; `key` is set from `keyOf` whatever this returns. */
  documentOf(key: string, value: Json): Record<string, unknown>;
}

/**
 * The mirror is for other tools and is never read back, so a key that Mongo would refuse is
 * made storable rather than failing the whole commit: a leading `$` becomes `＄`, `.` becomes `．`
 * and NUL becomes U+FFFD.
 */
function storableKey(key: string): string {
  return key.replace(/^\$/, "\uFF04").replaceAll(".", "\uFF0E").replaceAll("\0", "\uFFFD");
}

export function storable(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(storable);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) out[storableKey(k)] = storable(v) as Json;
  return out;
}

/** The stored document of one mirrored register. */
export function mirrorDocument(mirror: MongoMirror, key: string, value: Json): Record<string, unknown> {
  return { ...(storable(mirror.documentOf(key, value)) as Record<string, unknown>), [mirror.key]: key };
}
