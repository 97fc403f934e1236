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

export function metricsMiddleware(metrics: Metrics, label: (path: string) => string): MiddlewareHandler {
  // Label children are looked up once per (method, route[, status]) instead of hashing labels per request.
  type Gauge = ReturnType<Metrics["httpInFlight"]["labels"]>;
  type Counter = ReturnType<Metrics["httpRequests"]["labels"]>;
  const inFlight = new Map<string, Gauge>();
  const answered = new Map<string, Counter>();
  return async (c, next) => {
    const route = label(c.req.path);
    const method = c.req.method;
    const key = `${method} ${route}`;
    let gauge = inFlight.get(key);
    if (!gauge) {
      gauge = metrics.httpInFlight.labels(method, route);
      inFlight.set(key, gauge);
    }
    gauge.inc();
    try {
      await next();
    } finally {
      gauge.dec();
      const status = c.res.status;
      const ckey = `${key} ${status}`;
      let counter = answered.get(ckey);
      if (!counter) {
        counter = metrics.httpRequests.labels(method, route, String(status));
        answered.set(ckey, counter);
      }
      counter.inc();
    }
  };
}

/**
 * CORS by c.header() before the handler runs: hono's cors middleware edits c.res afterwards,
 * which makes hono rebuild every response as a stream (several times slower under load).
 */
export function corsMiddleware(origin: string): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.header("Origin") === undefined) return next();
    c.header("Access-Control-Allow-Origin", origin);
    if (origin !== "*") c.header("Vary", "Origin");
    c.header("Access-Control-Expose-Headers", "X-Switchboard-Index, Retry-After");
    if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined) {
      c.header("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, OPTIONS");
      c.header("Access-Control-Allow-Headers", c.req.header("Access-Control-Request-Headers") ?? "Content-Type");
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    return next();
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

function tooLarge(max: number): SwitchboardError {
  return new SwitchboardError("BODY_TOO_LARGE", `the body is larger than ${max} bytes`);
}
