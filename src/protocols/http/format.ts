// Wire shapes of registers and change requests (declared in @switchboard/wire): ISO timestamps, stable field order.

import type { RequestOutcome, WireChangeRequest, WireMissing, WirePending, WireRegister } from "@switchboard/wire";
import type { ChangeRequest, Outcome, Register, RegisterView } from "../../core/index.js";

const iso = (ms: number) => new Date(ms).toISOString();

export function formatRegister(r: Register): WireRegister {
  return {
    name: r.name,
    found: true as const,
    value: r.value,
    metadata: r.metadata,
    version: r.version,
    createRevision: r.createRevision,
    modRevision: r.modRevision,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    expiresAt: r.expiresAt === null ? null : iso(r.expiresAt),
  };
}

export function formatView(v: RegisterView): WireRegister | WireMissing {
  return v.found ? formatRegister(v.register) : { name: v.name, found: false as const };
}

export function formatRequest(r: ChangeRequest): WireChangeRequest {
  return {
    id: r.id,
    name: r.name,
    value: r.value,
    requestedAt: iso(r.requestedAt),
    ...(r.requester === undefined ? {} : { requester: r.requester }),
    ...(r.expiresAt === undefined ? {} : { expiresAt: iso(r.expiresAt) }),
  };
}

/** A pending request as a consumer sees it next to the register (`pending=true`): no name, it is the register's. */
export function formatPending(r: ChangeRequest): WirePending {
  return {
    id: r.id,
    value: r.value,
    requestedAt: iso(r.requestedAt),
    ...(r.requester === undefined ? {} : { requester: r.requester }),
    ...(r.expiresAt === undefined ? {} : { expiresAt: iso(r.expiresAt) }),
  };
}

export function formatOutcome(o: Outcome): RequestOutcome {
  return {
    id: o.id,
    name: o.name,
    status: o.status,
    requestedAt: iso(o.requestedAt),
    ...(o.requester === undefined ? {} : { requester: o.requester }),
    ...(o.finishedAt === undefined ? {} : { finishedAt: iso(o.finishedAt) }),
    ...(o.result === undefined ? {} : { result: o.result }),
    ...(o.message === undefined ? {} : { message: o.message }),
  };
}
