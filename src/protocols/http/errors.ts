// Maps core error kinds to HTTP statuses and renders the one error body shape.

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import { type ErrorKind, isSwitchboardError, SwitchboardError } from "../../core/index.js";

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  exhausted: 429,
  unavailable: 503,
  internal: 500,
};

export function statusOf(err: SwitchboardError): ContentfulStatusCode {
  // A read/poll naming too many registers is a bad request, not a too-large body.
  if (err.code === "TOO_MANY_NAMES") return 400;
  if (err.code === "REQUEST_TIMEOUT") return 408;
  if (err.code === "HEADERS_TOO_LARGE") return 431;
  return STATUS[err.kind];
}

/** Status recorded for a request whose client went away before it could be answered (nginx's convention). */
export const CLIENT_CLOSED_REQUEST = 499;

/** The client hung up (mid-body, or while its answer was being built): nobody is left to answer. */
function clientGone(c: Context): boolean {
  const incoming = (c.env as { incoming?: { aborted?: boolean; destroyed?: boolean; complete?: boolean } } | undefined)
    ?.incoming;
  return (
    c.req.raw.signal?.aborted === true ||
    incoming?.aborted === true ||
    (incoming?.destroyed === true && !incoming.complete)
  );
}

/** Turns anything thrown by a handler into `{"error": {code, message, details?}}` with its status. */
export function errorResponse(err: unknown, c: Context, log: Logger): Response {
  if (!isSwitchboardError(err) && clientGone(c)) {
    // Not a server fault: logged at debug and counted under 499, so 5xx alerts stay meaningful.
    log.debug(
      { method: c.req.method, path: c.req.path, reason: err instanceof Error ? err.message : String(err) },
      "client closed the request",
    );
    return new Response(null, { status: CLIENT_CLOSED_REQUEST });
  }
  const { status, headers, body } = errorParts(err, log, c.req.method, c.req.path);
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json(body, status);
}

/** The status, headers and body an error is answered with (shared by the hono app and the node-level routes). */
export function errorParts(
  err: unknown,
  log: Logger,
  method: string,
  path: string,
): { status: ContentfulStatusCode; headers: Record<string, string>; body: { error: unknown } } {
  let e: SwitchboardError;
  if (isSwitchboardError(err)) e = err;
  else if (err instanceof HTTPException && err.status < 500) {
    e = new SwitchboardError(err.status === 413 ? "BODY_TOO_LARGE" : "INVALID_BODY", err.message || "bad request");
  } else {
    log.error({ err, method, path }, "unexpected error");
    e = new SwitchboardError("INTERNAL", "internal error");
  }
  const headers: Record<string, string> = {};
  if (e.retryAfter !== undefined) headers["Retry-After"] = String(e.retryAfter);
  if (e.code === "UNAUTHENTICATED") headers["WWW-Authenticate"] = 'Bearer realm="switchboard"';
  // The rest of an oversized body is not read: the connection cannot be reused.
  if (e.code === "BODY_TOO_LARGE") headers.Connection = "close";
  return { status: statusOf(e), headers, body: { error: e.toJSON() } };
}
