// Per-record ACL of the registry API: a record is the register registries/<registry_id>, checked like any register.

import type { Context } from "hono";
import type { JsonObject } from "../../core/index.js";
import type { Auth } from "../../services/auth/index.js";
import { REGISTRY_PREFIX, registryName } from "../../services/registry/index.js";
import { principalOf } from "../http/auth.js";

export interface RecordAccess {
  /** Which records a query may answer; null when the caller may read every record (nothing to filter). */
  readonly visible: ((doc: JsonObject) => boolean) | null;
  /** Refuses (403 naming registries/<id>) unless the caller may `action` that record. */
  authorize(action: "read" | "write", registryId: string): void;
  /** Refuses unless the caller may write some record (before a body is received whose id is not known yet). */
  authorizeSomeWrite(): void;
}

export function recordAccess(auth: Auth, c: Context): RecordAccess {
  const principal = principalOf(c, auth);
  const readAll = principal.grants.covers("read", REGISTRY_PREFIX);
  return {
    visible: readAll
      ? null
      : (doc) => typeof doc.registry_id === "string" && auth.may(principal, "read", registryName(doc.registry_id)),
    authorize: (action, registryId) => auth.authorize(principal, action, [registryName(registryId)]),
    authorizeSomeWrite: () => auth.authorizeUnder(principal, "write", REGISTRY_PREFIX),
  };
}

/** The registry_id a create or update body names, or null when it names none (the service then refuses the body). */
export function registryIdIn(body: unknown): string | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const id = (body as Record<string, unknown>).registry_id;
  return typeof id === "string" ? id : null;
}
