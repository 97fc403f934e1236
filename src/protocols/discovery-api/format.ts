// The wire shape of a service: its endpoint, lease and last health verdict, with ISO timestamps.

import type { HealthResult, ServiceRecord } from "../../services/index.js";

const iso = (ms: number) => new Date(ms).toISOString();

export function formatService(s: ServiceRecord) {
  return {
    // The endpoint first, so that a value field can never shadow the fields below.
    ...s.endpoint,
    type: s.type,
    id: s.id,
    name: s.name,
    metadata: s.metadata,
    health: s.health ? formatHealth(s.health) : null,
    version: s.version,
    modRevision: s.modRevision,
    registeredAt: iso(s.registeredAt),
    updatedAt: iso(s.updatedAt),
    expiresAt: s.expiresAt === null ? null : iso(s.expiresAt),
  };
}

/** A verdict on the wire: checkedAt as an ISO timestamp like every other time. */
export function formatHealth(h: HealthResult) {
  return { status: h.status, checkedAt: iso(h.checkedAt), latencyMs: h.latencyMs, output: h.output };
}
