// HTTP side of auth: the Bearer token → principal middleware, the principal of a request, revocation of held answers.

import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import { SwitchboardError } from "../../core/index.js";
import { type Auth, NOBODY, type Principal } from "../../services/auth/index.js";

const KEY = "switchboardPrincipal";

/**
 * Resolves the caller once per request. A bad token answers 401 at once (with WWW-Authenticate);
 * no token gives the anonymous principal, which the routes refuse where auth is on. `/healthz` and
 * `/readyz` never need one.
 */
export function authMiddleware(auth: Auth, log: Logger): MiddlewareHandler {
  return async (c, next) => {
    // Liveness and readiness stay open to probes, whatever they send.
    if (!auth.enabled || c.req.path === "/healthz" || c.req.path === "/readyz") return next();
    const header = c.req.header("Authorization");
    const principal =
      header === undefined ? NOBODY : authenticateHeader(auth, log, header, clientAddress(c), c.req.path);
    c.set(KEY as never, principal as never);
    return next();
  };
}

/** The principal of an Authorization header (auth on); a bad one is logged and thrown (UNAUTHENTICATED, RATE_LIMITED). */
export function authenticateHeader(auth: Auth, log: Logger, header: string, address: string, path: string): Principal {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  try {
    if (!m) throw new SwitchboardError("UNAUTHENTICATED", "Authorization must be `Bearer <token>`");
    return auth.authenticate(m[1], address);
  } catch (err) {
    log.warn({ address, path, code: (err as SwitchboardError).code }, "authentication failed");
    throw err;
  }
}

/** The peer address of the request ("" when the runtime does not say). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "";
  } catch {
    return "";
  }
}

/** The caller of this request (everything allowed when auth is off). */
export function principalOf(c: Context, auth: Auth): Principal {
  if (!auth.enabled) return auth.authenticate(undefined);
  return (c.get(KEY as never) as Principal | undefined) ?? NOBODY;
}

/**
 * A signal that aborts when the client goes away or its token is revoked (so held long-polls and
 * streams of a revoked token end at once), and `revoked()` to tell the two apart.
 */
export interface HeldSignal {
  readonly signal: AbortSignal;
  /** True when the abort came from a revocation rather than the client. */
  revoked(): boolean;
  release(): void;
}

export function requestSignal(c: Context, auth: Auth, principal: Principal): HeldSignal {
  const base = c.req.raw.signal;
  if (!auth.enabled || principal.kind !== "token")
    return { signal: base, revoked: () => false, release: () => undefined };
  const controller = new AbortController();
  let revoked = false;
  const onAbort = () => controller.abort();
  base.addEventListener("abort", onAbort, { once: true });
  const off = auth.onRevoke(principal, () => {
    revoked = true;
    controller.abort();
  });
  return {
    signal: controller.signal,
    revoked: () => revoked,
    release: () => {
      off();
      base.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Runs a held answer (a long-poll, an outcome wait) with a signal that also fires when the caller's
 * token is revoked; a revoked wait answers UNAUTHENTICATED instead of its result.
 */
export async function whileAuthorized<T>(
  c: Context,
  auth: Auth,
  principal: Principal,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const held = requestSignal(c, auth, principal);
  let result: T;
  try {
    result = await run(held.signal);
  } finally {
    held.release();
  }
  if (held.revoked()) throw new SwitchboardError("UNAUTHENTICATED", "the token was revoked");
  return result;
}
