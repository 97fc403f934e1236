// Per-field ACL of GraphQL: every resolver asks the same authorize/may of the auth service as the REST routes do.

import type { JsonObject } from "../../core/index.js";
import { SwitchboardError } from "../../core/index.js";
import type { Auth, Principal, RegisterAction } from "../../services/auth/index.js";
import { REGISTRY_PREFIX, registryName } from "../../services/registry/index.js";

/** The caller of one GraphQL request, as the resolvers see it (in the context). */
export interface Access {
  readonly auth: Auth;
  readonly principal: Principal;
  /** The client address (rate limits). */
  readonly address: string;
  /** True once the caller's token was revoked during the request (a held poll then answers UNAUTHENTICATED). */
  readonly revoked: () => boolean;
}

/** Refuses (FORBIDDEN naming the action and the first refused name) unless every name is allowed. */
export function check(a: Access, action: RegisterAction, names: readonly string[]): void {
  a.auth.authorize(a.principal, action, names);
}

/** Whether a listing may include `name` (filtered, never refused). */
export function can(a: Access, action: RegisterAction, name: string): boolean {
  return a.auth.may(a.principal, action, name);
}

/** Charges writes and change requests to the token and the address (RATE_LIMITED over --rate-limit). */
export function charge(a: Access, count: number): void {
  a.auth.chargeWrites(a.principal, a.address, count);
}

/** The records a query may answer (registries/<id> readable); null: all of them (nothing to filter). */
export function visibleRecords(a: Access): ((doc: JsonObject) => boolean) | null {
  if (a.principal.grants.covers("read", REGISTRY_PREFIX)) return null;
  return (doc) => typeof doc.registry_id === "string" && can(a, "read", registryName(doc.registry_id));
}

export function filterRecords(a: Access, docs: readonly JsonObject[]): readonly JsonObject[] {
  const visible = visibleRecords(a);
  return visible ? docs.filter(visible) : docs;
}

/** A record write needs write on registries/<id>; a spec naming no id needs write on some record (then the service refuses it). */
export function checkRecordWrite(a: Access, spec: Record<string, unknown>): void {
  const id = spec.registry_id;
  if (typeof id === "string") check(a, "write", [registryName(id)]);
  else a.auth.authorizeUnder(a.principal, "write", REGISTRY_PREFIX);
}

/** After a held answer: a token revoked meanwhile gets UNAUTHENTICATED instead of the result. */
export function stillAuthorized<T>(a: Access, result: T): T {
  if (a.revoked()) throw new SwitchboardError("UNAUTHENTICATED", "the token was revoked");
  return result;
}
