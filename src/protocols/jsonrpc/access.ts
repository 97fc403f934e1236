// ACL of the Plexus dialect: each call is authorized on the backends/<name> register it touches (token or listener policy).

import type { Auth, Principal } from "../../services/auth/index.js";
import { BACKENDS_PREFIX, backendRegister } from "./backends.js";
import { HUB_BACKEND, HUB_CALL } from "./hub.js";
import { METHODS } from "./methods.js";

const READS = new Set(["get"]);
const WHOLE_READS = new Set(["list"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The `token` field of a call's params (named params only), if any. */
export function tokenOf(params: unknown): unknown {
  return isObject(params) ? params.token : undefined;
}

/**
 * Refuses (FORBIDDEN / UNAUTHENTICATED, answered as a JSON-RPC error) a call the principal may not
 * make: get needs read on backends/<name>, list and watch read on all of their prefix, the
 * changing methods (register, update, unregister, ping, reload) write on backends/<name> (reload:
 * on all of backends/). `_info`, schemas and unsubscribes carry no data and pass.
 */
export function checkCall(auth: Auth, principal: Principal, method: string, params: unknown): void {
  if (!auth.enabled) return;
  if (method === HUB_CALL) {
    if (!isObject(params) || typeof params.method !== "string") return;
    const inner = params.method.startsWith(`${HUB_BACKEND}.`)
      ? params.method.slice(HUB_BACKEND.length + 1)
      : params.method;
    checkCall(auth, principal, inner, params.params);
    return;
  }
  if (!method.startsWith("registry.")) return;
  const short = method.slice("registry.".length);
  const p = isObject(params) ? params : {};
  if (short === "watch") {
    auth.authorizePrefixes(principal, "read", [typeof p.prefix === "string" ? p.prefix : BACKENDS_PREFIX]);
    return;
  }
  const def = METHODS[short];
  if (!def) return;
  if (WHOLE_READS.has(short)) {
    auth.authorizePrefixes(principal, "read", [BACKENDS_PREFIX]);
    return;
  }
  const at = def.order.indexOf("name");
  const name = Array.isArray(params) ? (at >= 0 ? params[at] : undefined) : p.name;
  const action = READS.has(short) ? "read" : "write";
  if (typeof name === "string") auth.authorize(principal, action, [backendRegister(name)]);
  else auth.authorizePrefixes(principal, action, [BACKENDS_PREFIX]);
}
