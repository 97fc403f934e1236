// Cross-cutting HTTP middleware of the shared port kept on node-server's fast path: metrics, CORS headers, the body cap.

import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { SwitchboardError } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";

/**
 * The route label of a path: the path itself when a module declared it, else its first segment
 * when that was declared as a prefix (`/registry/*`), else "other" — label cardinality stays bounded.
 */
export function routeLabeler(routes: ReadonlySet<string>): (path: string) => string {
  return (path) => {
    if (routes.has(path)) return path;
    const slash = path.indexOf("/", 1);
    const first = slash === -1 ? path : path.slice(0, slash);
    return routes.has(`${first}/*`) ? `${first}/*` : "other";
  };
}

/** Counts a request in flight from start() to the returned end(status), by method and route label. */
export type HttpMeter = (method: string, path: string) => (status: number) => void;

export function httpMeter(metrics: Metrics, label: (path: string) => string): HttpMeter {
  // Label children are looked up once per (method, route[, status]) instead of hashing labels per request.
  type Gauge = ReturnType<Metrics["httpInFlight"]["labels"]>;
  type Counter = ReturnType<Metrics["httpRequests"]["labels"]>;
  const inFlight = new Map<string, Gauge>();
  const answered = new Map<string, Counter>();
  return (method, path) => {
    const route = label(path);
    const key = `${method} ${route}`;
    let gauge = inFlight.get(key);
    if (!gauge) {
      gauge = metrics.httpInFlight.labels(method, route);
      inFlight.set(key, gauge);
    }
    gauge.inc();
    const g = gauge;
    return (status) => {
      g.dec();
      const ckey = `${key} ${status}`;
      let counter = answered.get(ckey);
      if (!counter) {
        counter = metrics.httpRequests.labels(method, route, String(status));
        answered.set(ckey, counter);
      }
      counter.inc();
    };
  };
}

export function metricsMiddleware(meter: HttpMeter): MiddlewareHandler {
  return async (c, next) => {
    const end = meter(c.req.method, c.req.path);
    try {
      await next();
    } finally {
      end(c.res.status);
    }
  };
}

export const EPOCH_HEADER = "X-Switchboard-Epoch";

/**
 * Every answer (errors and every module's routes included) names the data set's history, so a
 * client can tell an index of this server from one of a server that lost its data.
 */
export function epochMiddleware(epoch: string): MiddlewareHandler {
  return async (c, next) => {
    c.header(EPOCH_HEADER, epoch);
    return next();
  };
}

/**
 * CORS by c.header() before the handler runs: hono's cors middleware edits c.res afterwards,
 * which makes hono rebuild every response as a stream (several times slower under load).
 */
export function corsMiddleware(origins: readonly string[]): MiddlewareHandler {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return async (c, next) => {
    const origin = c.req.header("Origin");
    if (origin === undefined) return next();
    if (!any && !allowed.has(origin)) {
      // A foreign origin gets no CORS headers: the browser blocks the answer (and refuses preflights).
      if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined) {
        throw new SwitchboardError("FORBIDDEN", `origin ${origin} is not allowed (--cors-origin)`);
      }
      return next();
    }
    // Credentials are never allowed: tokens travel in the Authorization header, which a page must set itself.
    c.header("Access-Control-Allow-Origin", any ? "*" : origin);
    if (!any) c.header("Vary", "Origin");
    c.header("Access-Control-Expose-Headers", "X-Switchboard-Index, X-Switchboard-Epoch, Retry-After");
    if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined) {
      c.header("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, OPTIONS");
      c.header("Access-Control-Allow-Headers", c.req.header("Access-Control-Request-Headers") ?? "Content-Type");
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    return next();
  };
}

/** The DNS-rebinding guard: a Host header outside the list is refused before anything else runs. */
export function hostCheckMiddleware(hosts: readonly string[]): MiddlewareHandler {
  const check = hostCheck(hosts);
  return async (c, next) => {
    check(c.req.header("Host"));
    return next();
  };
}

/** The Host header check behind hostCheckMiddleware: throws FORBIDDEN for a host outside the list. */
export function hostCheck(hosts: readonly string[]): (header: string | undefined) => void {
  const allowed = new Set(hosts);
  return (header) => {
    const host = (header ?? "").toLowerCase();
    const bare = host.replace(/:\d+$/, "");
    if (!allowed.has(host) && !allowed.has(bare)) {
      throw new SwitchboardError("FORBIDDEN", `host ${JSON.stringify(host)} is not served here (--allowed-hosts)`);
    }
  };
}

/**
 * The body cap. With a Content-Length the check is a header comparison (the body is then read
 * once, by the route); only a chunked body is counted while it streams in. A path given its own
 * cap in `overrides` (an upload route that streams its body) is held to that cap instead.
 */
export function bodyCapMiddleware(
  maxBytes: number,
  overrides: ReadonlyMap<string, number> = new Map(),
): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>();
  const limiter = (max: number) => {
    let l = limiters.get(max);
    if (!l) {
      l = bodyLimit({
        maxSize: max,
        onError: () => {
          throw tooLarge(max);
        },
      });
      limiters.set(max, l);
    }
    return l;
  };
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "DELETE") return next();
    const max = overrides.get(c.req.path) ?? maxBytes;
    const length = c.req.header("Content-Length");
    if (length !== undefined && c.req.header("Transfer-Encoding") === undefined) {
      if (Number(length) > max) throw tooLarge(max);
      return next();
    }
    return limiter(max)(c, next);
  };
}

/** BODY_TOO_LARGE for a body over `max` bytes (the hono cap and the node-level routes alike). */
export function tooLarge(max: number): SwitchboardError {
  return new SwitchboardError("BODY_TOO_LARGE", `the body is larger than ${max} bytes`);
}
