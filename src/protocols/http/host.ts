// The shared HTTP port: one hono app on @hono/node-server that every HTTP-speaking module mounts on.

import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import type { Logger } from "pino";
import { SwitchboardError } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";
import type { HttpMount, Listener, UpgradeHandler } from "../protocol.js";
import { errorResponse } from "./errors.js";
import { bodyCapMiddleware, corsMiddleware, metricsMiddleware, routeLabeler } from "./middleware.js";

export interface HttpHostOptions {
  readonly host: string;
  /** null = no HTTP listener (`--port off`). */
  readonly port: number | null;
  readonly maxBodyBytes: number;
  /** Largest request head (request line + headers), bytes. */
  readonly maxHeaderBytes: number;
  /** Access-Control-Allow-Origin value; empty disables CORS. */
  readonly corsOrigin: string;
  /** Longest a long-poll may be held, ms: the request timeout is set past it. */
  readonly maxHoldMs: number;
}

export interface HttpHost extends HttpMount {
  start(): Promise<Listener | null>;
  stop(deadlineMs: number): Promise<void>;
}

export function createHttpHost(options: HttpHostOptions, log: Logger, metrics: Metrics): HttpHost {
  const routes = new Set<string>();
  const closers = new Set<() => void>();
  const upgrades = new Map<string, UpgradeHandler>();
  const bodyCaps = new Map<string, number>();
  const app = new Hono();
  app.use("*", metricsMiddleware(metrics, routeLabeler(routes)));
  if (options.corsOrigin) app.use("*", corsMiddleware(options.corsOrigin));
  app.use("*", bodyCapMiddleware(options.maxBodyBytes, bodyCaps));
  app.notFound(() => {
    throw new SwitchboardError("ROUTE_NOT_FOUND", "no such route");
  });
  app.onError((err, c) => errorResponse(err, c, log));

  let server: ReturnType<typeof createAdaptorServer> | undefined;

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
    start() {
      if (options.port === null) return Promise.resolve(null);
      // Held long-polls must never be cut by the server's own timeouts: requestTimeout covers
      // the whole request, so it is set past the longest hold; idle keep-alive stays short.
      const s = createAdaptorServer({
        fetch: app.fetch,
        hostname: options.host,
        serverOptions: {
          requestTimeout: options.maxHoldMs + 60_000,
          headersTimeout: 30_000,
          keepAliveTimeout: 65_000,
          // A poll may name maxNames registers of up to 256 characters in its query string.
          maxHeaderSize: options.maxHeaderBytes,
        },
      });
      s.on("upgrade", (req, socket, head) => {
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        const handler = upgrades.get(path);
        if (handler) return handler(req, socket, head);
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      });
      server = s;
      const port = options.port;
      return new Promise((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, options.host, () => {
          s.off("error", reject);
          const a = s.address() as AddressInfo;
          resolve({ protocol: "http", transport: "http", host: a.address, port: a.port });
        });
      });
    },
    async stop(deadlineMs) {
      const s = server;
      if (!s) return;
      for (const close of [...closers]) close();
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
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
