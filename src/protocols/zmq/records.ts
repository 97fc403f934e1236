// CGSE service records rendered from discovery's services/<type>/<id> registers, and the service_info checks.

import type { Json, JsonObject } from "../../core/index.js";
import { LEASE_KEY, type ServiceRecord } from "../../services/discovery.js";

/** A service record as a CGSE registry answers it (`get`, `list`, `discover`, `info`). */
export interface CgseRecord {
  readonly [key: string]: Json;
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly metadata: JsonObject;
  /** Lease, seconds; null for a service registered elsewhere without a TTL. */
  readonly ttl: number | null;
  /** Epoch seconds of the last registration or renewal. */
  readonly last_heartbeat: number;
  readonly tags: string[];
  readonly health: "passing" | "critical";
}

/** The discovery type segment of a CGSE service registered without a type. */
export const UNTYPED = "untyped";

/** What discovery allows in a type or id segment (services/<type>/<id>). */
const SEGMENT = /^[A-Za-z0-9._:-]{1,100}$/;

export function isSegment(v: string): boolean {
  return SEGMENT.test(v);
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringList(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((t): t is string => typeof t === "string") : [];
}

/** The lease in ms that discovery keeps beside a service (null when it has no TTL). */
function leaseMs(s: ServiceRecord): number | null {
  const stored = s.metadata[LEASE_KEY];
  if (typeof stored === "number" && stored > 0) return stored;
  if (s.expiresAt === null) return null;
  return Math.max(1000, s.expiresAt - s.updatedAt);
}

/** The service's metadata as CGSE shows it: the register metadata without discovery's lease key. */
function cgseMetadata(s: ServiceRecord): JsonObject {
  const { [LEASE_KEY]: _lease, ...rest } = s.metadata;
  return rest;
}

/**
 * The CGSE record of a service. last_heartbeat is derived, not stored: a renewal moves only the
 * deadline (no revision, no event), so the last beat is the deadline minus the lease.
 */
export function toCgseRecord(s: ServiceRecord, nowMs: number): CgseRecord {
  const lease = leaseMs(s);
  const lastBeatMs = lease !== null && s.expiresAt !== null ? s.expiresAt - lease : s.updatedAt;
  const name = typeof s.endpoint.name === "string" ? s.endpoint.name : s.id;
  return {
    id: s.id,
    name,
    host: s.endpoint.host,
    port: s.endpoint.port,
    metadata: cgseMetadata(s),
    ttl: lease === null ? null : lease / 1000,
    last_heartbeat: Math.floor(lastBeatMs / 1000),
    tags: stringList(s.endpoint.tags),
    health: s.expiresAt === null || nowMs <= s.expiresAt ? "passing" : "critical",
  };
}

/** The service_info a `register` event carries, as a CGSE client sent it (id filled in). */
export function toServiceInfo(s: ServiceRecord): JsonObject {
  const metadata = cgseMetadata(s);
  const info: JsonObject = {
    name: typeof s.endpoint.name === "string" ? s.endpoint.name : s.id,
    host: s.endpoint.host,
    port: s.endpoint.port,
    id: s.id,
  };
  const type = typeof metadata.type === "string" ? metadata.type : s.type === UNTYPED ? undefined : s.type;
  if (type !== undefined) info.type = type;
  info.metadata = metadata;
  info.tags = stringList(s.endpoint.tags);
  return info;
}

/** CGSE's type filter (tags or metadata.type), plus the discovery type itself for services registered elsewhere. */
export function hasType(s: ServiceRecord, type: string): boolean {
  if (s.type === type) return true;
  if (s.metadata.type === type) return true;
  return stringList(s.endpoint.tags).includes(type);
}

/** A registration that passed the checks, ready for discovery. */
export interface Registration {
  readonly id: string;
  /** The CGSE service type, or null. */
  readonly type: string | null;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly metadata: JsonObject;
  readonly tags: string[];
  readonly ttlMs: number;
  readonly singleton: boolean;
  readonly allowDuplicateType: boolean;
}

/** `<name lower-cased, spaces → '-'>-<uuid>`, as CGSE makes ids; characters discovery cannot hold become '-'. */
export function generateId(name: string, uuid: string): string {
  const base = name
    .toLowerCase()
    .replace(/ /g, "-")
    .replace(/[^A-Za-z0-9._:-]/g, "-")
    .slice(0, 100 - uuid.length - 1);
  return `${base}-${uuid}`;
}

/** Checks a register request the way CGSE words its answers; returns the registration or the error text. */
export function parseRegistration(
  request: JsonObject,
  uuid: () => string,
): { ok: true; value: Registration } | { ok: false; error: string; extra?: JsonObject } {
  const info = request.service_info;
  if (info === undefined) return { ok: false, error: "Missing required field: service_info" };
  if (!isObject(info)) return { ok: false, error: "Invalid field: service_info (expected an object)" };
  for (const field of ["name", "host", "port"]) {
    if (!(field in info)) return { ok: false, error: `Missing required field in service_info: ${field}` };
  }
  const { name, host, port } = info;
  if (typeof name !== "string" || name === "") {
    return { ok: false, error: "Invalid field in service_info: name (expected a non-empty string)" };
  }
  if (typeof host !== "string" || host === "") {
    return { ok: false, error: "Invalid field in service_info: host (expected a non-empty string)" };
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    return { ok: false, error: "Invalid field in service_info: port (expected an integer 0-65535)" };
  }
  const metadata = info.metadata ?? {};
  if (!isObject(metadata)) return { ok: false, error: "Invalid field in service_info: metadata (expected an object)" };
  const tags = info.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string")) {
    return { ok: false, error: "Invalid field in service_info: tags (expected a list of strings)" };
  }
  const rawType = info.type || metadata.type || null;
  if (rawType !== null && (typeof rawType !== "string" || !isSegment(rawType))) {
    return {
      ok: false,
      error: "Invalid service type: expected 1-100 characters of A-Z a-z 0-9 . _ - :",
    };
  }
  const rawId = info.id || null;
  if (rawId !== null && (typeof rawId !== "string" || !isSegment(rawId))) {
    return { ok: false, error: "Invalid service id: expected 1-100 characters of A-Z a-z 0-9 . _ - :" };
  }
  const ttl = request.ttl ?? 30;
  if (typeof ttl !== "number" || !(ttl > 0)) {
    return { ok: false, error: "Invalid ttl: expected a positive number of seconds" };
  }
  const singleton = Boolean(info.singleton);
  const allowDuplicateType = Boolean(info.allow_duplicate_service_type);
  if (singleton && allowDuplicateType) {
    return {
      ok: false,
      error: "invalid_service_type_policy",
      extra: { message: "singleton and allow_duplicate_service_type cannot both be true." },
    };
  }
  // As CGSE does: the type is always among the tags and in metadata.type, so either finds it.
  const allTags = [...(tags as string[])];
  const fullMetadata: JsonObject = { ...metadata };
  if (rawType !== null) {
    if (!allTags.includes(rawType)) allTags.push(rawType);
    fullMetadata.type = rawType;
  }
  return {
    ok: true,
    value: {
      id: rawId ?? generateId(name, uuid()),
      type: rawType,
      name,
      host,
      port,
      metadata: fullMetadata,
      tags: allTags,
      ttlMs: Math.round(ttl * 1000),
      singleton,
      allowDuplicateType,
    },
  };
}
