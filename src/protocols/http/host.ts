// The shared HTTP port: one hono app on @hono/node-server that every HTTP-speaking module mounts on.

import {
  createServer as createNodeServer,
  type IncomingMessage,
  type Server as NodeHttpServer,
  type RequestListener,
  type ServerOptions,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import type { Logger } from "pino";
import { Counter, Gauge } from "prom-client";
import { SwitchboardError } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";
import { type Auth, NOBODY } from "../../services/auth/index.js";
import type { FastHandler, FastMethod, HttpMount, Listener, UpgradeHandler } from "../protocol.js";
import { type Admission, createAdmission } from "./admission.js";
import { authenticateHeader, authMiddleware } from "./auth.js";
import { clientErrorHandler } from "./client-error.js";
import { errorResponse } from "./errors.js";
import { FastExchange, type FastRouteSettings } from "./fast-request.js";
import {
  bodyCapMiddleware,
  corsMiddleware,
  EPOCH_HEADER,
  epochMiddleware,
  hostCheck,
  hostCheckMiddleware,
  httpMeter,
  metricsMiddleware,
  routeLabeler,
} from "./middleware.js";
import type { OpenApiPart } from "./openapi.js";

export interface HttpHostOptions {
  readonly host: string;
  /** null = no HTTP listener (`--port off`). */
  readonly port: number | null;
  readonly maxBodyBytes: number;
  /** Largest request head (request line + headers), bytes. */
  readonly maxHeaderBytes: number;
  /** Origins allowed to call from a browser; empty disables CORS. "*" is allowed only with auth on. */
  readonly corsOrigins: readonly string[];
  /** Host header values accepted (lower-cased, with or without port); empty accepts any. */
  readonly allowedHosts: readonly string[];
  readonly auth: Auth;
  /** Longest a long-poll may be held, ms. */
  readonly maxHoldMs: number;
  /** The data set's history id, sent on every answer as X-Switchboard-Epoch. */
  readonly epoch?: string;
  /** Connections admitted at once; more are answered 503 + Retry-After (a few more still reach /healthz, /readyz, /metrics). */
  readonly maxConnections: number;
  /** Connections one client address may hold at once; more are destroyed at accept (counted, logged rate-limited). */
  readonly maxConnectionsPerIp: number;
  /** Longest a client may take to send a request body once its headers are in, ms. */
  readonly requestBodyTimeoutMs: number;
  /** Longest a client may take to send its request line and headers, ms. */
  readonly headersTimeoutMs: number;
  /** PEM certificate and key (--tls-cert, --tls-key): the port then serves HTTPS (node:https). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

/** What a client refused for lack of connections is told to wait, seconds. */
const RETRY_AFTER_SECONDS = 5;

export interface HttpHost extends HttpMount {
  start(): Promise<Listener | null>;
  stop(deadlineMs: number): Promise<void>;
}

export function createHttpHost(options: HttpHostOptions, log: Logger, metrics: Metrics): HttpHost {
  const routes = new Set<string>();
  const closers = new Set<() => void>();
  const upgrades = new Map<string, UpgradeHandler>();
  const bodyCaps = new Map<string, number>();
  const described: OpenApiPart[] = [];
  const fastRoutes = new Map<string, FastHandler>();
  const app = new Hono();
  const meter = httpMeter(metrics, routeLabeler(routes));
  app.use("*", metricsMiddleware(meter));
  if (options.epoch !== undefined) app.use("*", epochMiddleware(options.epoch));
  if (options.allowedHosts.length > 0) app.use("*", hostCheckMiddleware(options.allowedHosts));
  if (options.corsOrigins.length > 0) app.use("*", corsMiddleware(options.corsOrigins));
  app.use("*", authMiddleware(options.auth, log));
  app.use("*", bodyCapMiddleware(options.maxBodyBytes, bodyCaps));
  app.notFound(() => {
    throw new SwitchboardError("ROUTE_NOT_FOUND", "no such route");
  });
  app.onError((err, c) => errorResponse(err, c, log));

  let server: NodeHttpServer | undefined;
  let admission: Admission | undefined;

  // The node-level routes: the same checks as the middleware above, in the same order, without hono.
  const checkHost = options.allowedHosts.length > 0 ? hostCheck(options.allowedHosts) : undefined;
  const shared: Record<string, string> = options.epoch === undefined ? {} : { [EPOCH_HEADER]: options.epoch };
  const cors = options.corsOrigins.length > 0;
  const fastSettings: FastRouteSettings = { shared, sharedList: Object.entries(shared).flat(), log };
  /** Serves a request on a fast route; false when it is for hono. */
  const tryFast = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (fastRoutes.size === 0) return false;
    const method = req.method ?? "GET";
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    const path = q === -1 ? target : target.slice(0, q);
    const handler = fastRoutes.get(`${method} ${path}`);
    // CORS answers (and refusals) stay with the hono middleware.
    if (!handler || (cors && req.headers.origin !== undefined)) return false;
    const address = req.socket.remoteAddress ?? "";
    const auth = options.auth;
    const exchange = new FastExchange(
      req,
      res,
      target,
      method,
      path,
      address,
      bodyCaps.get(path) ?? options.maxBodyBytes,
      fastSettings,
      meter(method, path),
      auth.authenticate(undefined),
    );
    try {
      checkHost?.(req.headers.host);
      const header = req.headers.authorization;
      if (auth.enabled)
        exchange.principal = header === undefined ? NOBODY : authenticateHeader(auth, log, header, address, path);
      handler(exchange);
    } catch (err) {
      exchange.fail(err);
    }
    return true;
  };

  return {
    app,
    label(...paths) {
      for (const p of paths) routes.add(p);
    },
    onStop(close) {
      closers.add(close);
      return () => closers.delete(close);
    },
    bodyLimit(path, maxBytes) {
      bodyCaps.set(path, maxBytes);
    },
    onUpgrade(path, handler) {
      if (upgrades.has(path)) throw new Error(`two upgrade handlers for ${path}`);
      upgrades.set(path, handler);
    },
    describe(part) {
      described.push(part);
    },
    described: () => described,
    fastRoute(method: FastMethod, path: string, handler: FastHandler) {
      const key = `${method} ${path}`;
      if (fastRoutes.has(key)) throw new Error(`two node-level routes for ${key}`);
      fastRoutes.set(key, handler);
    },
    start() {
      if (options.port === null) return Promise.resolve(null);
      // Node's requestTimeout only runs until a request is fully received (a held long-poll is not cut by it):
      // it backs up the precise body timeout below, which starts once the headers are in.
      const s = createAdaptorServer({
        fetch: app.fetch,
        hostname: options.host,
        // Every request passes the guard (request target, body timeout) before hono sees it.
        createServer: ((serverOptions: ServerOptions, listener: RequestListener) => {
          const guarded: RequestListener = (req, res) => {
            if (badTarget(req, res)) {
              metrics.httpRequests.labels(req.method ?? "-", "other", "400").inc();
              return;
            }
            bodyTimeout(req, res, options.requestBodyTimeoutMs, metrics);
            if (!tryFast(req, res)) listener(req, res);
          };
          // With a certificate the same server speaks TLS (the gate's accepted sockets are handshaken by it).
          return options.tls
            ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, guarded)
            : createNodeServer(serverOptions, guarded);
        }) as typeof createNodeServer,
        serverOptions: {
          requestTimeout: options.headersTimeoutMs + options.requestBodyTimeoutMs + 1000,
          headersTimeout: options.headersTimeoutMs,
          // How often Node checks those timeouts (default 30 s): a tenth of the headers timeout keeps them honest.
          connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.round(options.headersTimeoutMs / 10))),
          keepAliveTimeout: 65_000,
          // A poll may name maxNames registers of up to 256 characters in its query string.
          maxHeaderSize: options.maxHeaderBytes,
        },
      }) as NodeHttpServer;
      s.on(
        "clientError",
        clientErrorHandler(log, (status, code) => {
          metrics.httpRequests.labels("-", "other", String(status)).inc();
          metrics.errors.labels("http", code).inc();
        }),
      );
      s.on("upgrade", (req, socket, head) => {
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        const handler = upgrades.get(path);
        if (handler) return handler(req, socket, head);
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      });
      server = s;
      const refused = new Counter({
        name: "switchboard_http_connections_refused_total",
        help: "HTTP connections refused at accept: per_ip (--max-connections-per-ip) or max_connections.",
        labelNames: ["reason"] as const,
        registers: [],
      });
      metrics.registry.registerMetric(refused);
      const gate = createAdmission(
        s,
        {
          maxConnections: options.maxConnections,
          maxConnectionsPerIp: options.maxConnectionsPerIp,
          onRefused: (reason) => refused.labels(reason).inc(),
          retryAfterSeconds: RETRY_AFTER_SECONDS,
          // The app's own routes (and metrics middleware) answer, so the body is the usual one.
          answer: async (method, target) => app.fetch(new Request(`http://${options.host}${target}`, { method })),
        },
        log,
      );
      admission = gate;
      metrics.registry.registerMetric(
        new Gauge({
          name: "switchboard_http_connections",
          help: "Connections open on the HTTP port (admitted and answered over the limit).",
          registers: [],
          collect() {
            this.set(gate.open());
          },
        }),
      );
      const port = options.port;
      return new Promise((resolve, reject) => {
        gate.server.once("error", reject);
        gate.server.listen(port, options.host, () => {
          gate.server.off("error", reject);
          // The HTTP server never listens itself (the gate accepts for it); 'listening' starts its connection
          // tracking, which the header/request timeouts and closeIdleConnections() rely on.
          s.emit("listening");
          const a = gate.server.address() as AddressInfo;
          resolve({ protocol: "http", transport: "http", host: a.address, port: a.port });
        });
      });
    },
    async stop(deadlineMs) {
      const s = server;
      const gate = admission;
      if (!s || !gate) return;
      for (const close of [...closers]) close();
      // The accepting server's close() resolves once every connection it accepted has ended.
      const closed = new Promise<void>((resolve) => gate.server.close(() => resolve()));
      // Stops the HTTP server's connection-checking timer (it reports "not running": it never listened).
      s.close(() => undefined);
      const http = s as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
      http.closeIdleConnections?.();
      // Answered long-polls leave their keep-alive connections idle: close them as they go idle.
      const sweep = setInterval(() => http.closeIdleConnections?.(), 50);
      const force = setTimeout(() => http.closeAllConnections?.(), deadlineMs);
      try {
        await closed;
      } finally {
        clearInterval(sweep);
        clearTimeout(force);
      }
    },
  };
}

function writeJsonError(res: ServerResponse, status: number, error: SwitchboardError): void {
  const body = JSON.stringify({ error: error.toJSON() });
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    Connection: "close",
  });
  res.end(body);
}

/** A request target that is not a path (`OPTIONS *`, garbage): answered 400 here, as no route can take it. */
function badTarget(req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? "";
  if (url.startsWith("/") || url.startsWith("http://") || url.startsWith("https://")) return false;
  writeJsonError(res, 400, new SwitchboardError("MALFORMED_REQUEST", "the request target must be a path"));
  return true;
}

/**
 * The request-body timeout: from the headers to the last body byte. A client trickling its body is answered
 * 408 and cut after requestBodyTimeoutMs, not after the longest long-poll hold.
 */
function bodyTimeout(req: IncomingMessage, res: ServerResponse, ms: number, metrics: Metrics): void {
  const length = req.headers["content-length"];
  if ((length === undefined || length === "0") && req.headers["transfer-encoding"] === undefined) return;
  // Most bodies come in the same read as their headers: by the next tick the parser has taken the whole
  // request, and no timer is needed (a timer per write request cost a few percent of a PUT).
  process.nextTick(armBodyTimer, req, res, ms, metrics);
}

function armBodyTimer(req: IncomingMessage, res: ServerResponse, ms: number, metrics: Metrics): void {
  if (req.complete || req.destroyed) return;
  const timer = setTimeout(() => {
    if (req.complete) return;
    metrics.errors.labels("http", "REQUEST_TIMEOUT").inc();
    if (!res.headersSent) {
      writeJsonError(
        res,
        408,
        new SwitchboardError("REQUEST_TIMEOUT", `the request body was not received within ${ms} ms`),
      );
    }
    // The handler still waiting for the body sees the client as gone (answered 499 in the metrics, see errors.ts).
    res.once("finish", () => req.socket.destroy());
    if (res.writableFinished) req.socket.destroy();
  }, ms);
  const clear = () => clearTimeout(timer);
  req.once("end", clear);
  req.once("close", clear);
}
