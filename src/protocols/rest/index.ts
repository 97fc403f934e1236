// The REST protocol: hono routes on @hono/node-server, with limits, CORS, metrics and coded errors.

import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import type { Logger } from "pino";
import { type Switchboard, SwitchboardError } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";
import { consumerRoutes } from "./consumer.js";
import type { RestContext, RestOptions } from "./context.js";
import { errorResponse } from "./errors.js";
import { bodyCapMiddleware, corsMiddleware, metricsMiddleware } from "./middleware.js";
import { opsRoutes } from "./ops.js";
import { providerRoutes } from "./provider.js";
import { registerRoutes } from "./registers.js";

export type { RestOptions } from "./context.js";

export interface RestProtocol {
  readonly name: "rest";
  readonly app: Hono;
  /** Listens; resolves with the bound address. */
  start(host: string, port: number, maxHoldMs: number): Promise<AddressInfo>;
  /** Stops accepting, ends event streams, and closes connections once their responses are written (force at the deadline). */
  stop(deadlineMs: number): Promise<void>;
}

export function createRestProtocol(
  core: Switchboard,
  options: RestOptions,
  log: Logger,
  metrics: Metrics,
): RestProtocol {
  const ctx: RestContext = { core, options, log, metrics, streams: new Set() };
  const app = new Hono();

  app.use("*", metricsMiddleware(metrics));
  if (options.corsOrigin) app.use("*", corsMiddleware(options.corsOrigin));
  app.use("*", bodyCapMiddleware(options.maxBodyBytes));
  app.route("/provider", providerRoutes(ctx));
  app.route("/consumer", consumerRoutes(ctx));
  app.route("/", registerRoutes(ctx));
  app.route("/", opsRoutes(ctx));
  app.notFound(() => {
    throw new SwitchboardError("ROUTE_NOT_FOUND", "no such route");
  });
  app.onError((err, c) => errorResponse(err, c, log));

  let server: ReturnType<typeof createAdaptorServer> | undefined;

  return {
    name: "rest",
    app,
    start(host, port, maxHoldMs) {
      // Held long-polls must never be cut by the server's own timeouts: requestTimeout covers
      // the whole request, so it is set past the longest hold; idle keep-alive stays short.
      const s = createAdaptorServer({
        fetch: app.fetch,
        hostname: host,
        serverOptions: {
          requestTimeout: maxHoldMs + 60_000,
          headersTimeout: 30_000,
          keepAliveTimeout: 65_000,
          // A poll may name maxNames registers of up to 256 characters in its query string.
          maxHeaderSize: options.maxHeaderBytes,
        },
      });
      server = s;
      return new Promise((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => {
          s.off("error", reject);
          resolve(s.address() as AddressInfo);
        });
      });
    },
    async stop(deadlineMs) {
      const s = server;
      if (!s) return;
      for (const close of ctx.streams) close();
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
