// The Plexus dialect: JSON-RPC 2.0 over WebSocket (own port, and a path on the HTTP port) plus the watched TOML backends file.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import { SwitchboardError } from "../../core/index.js";
import { parseDuration } from "../../duration.js";
import { allowOption, NetworkGate, policyOption } from "../network.js";
import { defineProtocol, type Listener, portOption } from "../protocol.js";
import { checkCall, tokenOf } from "./access.js";
import { BackendStore } from "./backends.js";
import { BackendsFile, expandHome } from "./backends-file.js";
import { type ConnectionLimits, RpcConnection } from "./connection.js";

const count = (min: number) => z.coerce.number().int().min(min);
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch {
    ctx.addIssue({ code: "custom", message: `not a duration: ${JSON.stringify(v)}` });
    return z.NEVER;
  }
});
const offable = (v: string) => (v === "" || v === "off" ? null : v);

export const jsonrpcProtocol = defineProtocol({
  name: "jsonrpc",
  // Its wire carries no token: with auth on it listens on loopback only (see ProtocolModule.credentials).
  credentials: "none",
  allowOption: "jsonrpcAllow",
  options: z.object({
    jsonrpcPort: portOption(4445, "Plexus JSON-RPC WebSocket port (0 = any free port, off = none)"),
    jsonrpcPath: z
      .string()
      .refine((v) => v === "off" || v === "" || /^\/[\w./-]*$/.test(v), 'a path such as "/jsonrpc", or "off"')
      .default("/jsonrpc")
      .transform(offable)
      .describe("path of the same JSON-RPC WebSocket on the HTTP port (off = none)"),
    backendsFile: z
      .string()
      .default("~/.config/plexus/backends.toml")
      .transform(offable)
      .describe("Plexus TOML backends file, loaded at start and watched (off = none)"),
    jsonrpcMaxMessageBytes: count(64)
      .default(1024 * 1024)
      .describe("largest JSON-RPC WebSocket message, bytes (a larger one closes the connection with 1009)"),
    jsonrpcRateLimit: count(0).default(200).describe("JSON-RPC messages per second per connection (0 = no cap)"),
    jsonrpcPingInterval: duration
      .default(30_000)
      .describe("WebSocket ping period; a client that misses a pong for one period is dropped"),
    jsonrpcAllow: allowOption("jsonrpc-allow"),
    jsonrpcPolicy: policyOption("jsonrpc-policy"),
  }),
  create(ctx, options) {
    const store = new BackendStore(ctx.core);
    const file = new BackendsFile(
      options.backendsFile === null ? null : expandHome(options.backendsFile),
      store,
      ctx.log.child({ component: "backends-file" }),
    );
    const limits: ConnectionLimits = {
      maxBatch: 100,
      rateLimit: options.jsonrpcRateLimit,
      maxSubscriptions: 64,
      maxPendingFrames: 256,
      maxBufferedBytes: 16 * 1024 * 1024,
    };
    // One noServer WebSocketServer serves both entry points; we route upgrades to it ourselves.
    const wss = new WebSocketServer({ noServer: true, maxPayload: options.jsonrpcMaxMessageBytes });
    const alive = new WeakMap<WebSocket, boolean>();
    let nextConn = 1;
    let stopping = false;

    const { auth } = ctx.services;
    const gate = new NetworkGate(
      { allow: options.jsonrpcAllow, policy: options.jsonrpcPolicy, auth, flag: "jsonrpc" },
      (address) => {
        ctx.metrics.errors.labels("jsonrpc", "NETWORK_REFUSED").inc();
        ctx.log.warn({ address }, "jsonrpc connection refused: not in --jsonrpc-allow");
      },
    );

    wss.on("connection", (ws: WebSocket, req: import("node:http").IncomingMessage) => {
      const log = ctx.log.child({ conn: nextConn++ });
      const address = req.socket.remoteAddress ?? "";
      const conn = new RpcConnection(ws, {
        core: ctx.core,
        methods: { store, file },
        log,
        metrics: ctx.metrics,
        limits,
        version: ctx.settings.version,
        // A call's own params.token wins; else the listener's policy (--jsonrpc-policy), else everything (loopback).
        authorize: (method, params) =>
          checkCall(auth, gate.principal(tokenOf(params) ?? tokenOf(hubInner(params)), address), method, params),
      });
      alive.set(ws, true);
      ws.on("pong", () => alive.set(ws, true));
      ws.on("message", (data: Buffer) => conn.onFrame(data));
      // Oversized frames and protocol violations surface here; ws closes the socket itself.
      ws.on("error", (err) => {
        ctx.metrics.errors.labels("jsonrpc", "MALFORMED").inc();
        log.debug({ err: err.message }, "websocket error");
      });
      ws.on("close", () => conn.close());
    });

    const upgrade = (req: import("node:http").IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => {
      if (stopping) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      socket.on("error", () => socket.destroy());
      if (!gate.admits(req.socket.remoteAddress)) {
        socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    };
    const closeClients = (code: number, reason: string) => {
      for (const ws of wss.clients) ws.close(code, reason);
    };
    // The HTTP port is reachable wherever the server listens; a WebSocket upgrade there bypasses the
    // token check, so with auth on the dialect is served only on its own (loopback-bound) port.
    if (options.jsonrpcPath !== null && !ctx.services.auth.enabled) {
      ctx.http.onUpgrade(options.jsonrpcPath, upgrade);
      ctx.http.onStop(() => closeClients(1001, "server shutting down"));
    }

    // Keep-alive: a client that did not answer the previous ping is dropped.
    const ping = () => {
      for (const ws of wss.clients) {
        if (alive.get(ws) === false) {
          ws.terminate();
          continue;
        }
        alive.set(ws, false);
        ws.ping();
      }
    };

    let server: Server | undefined;
    let keepAlive: NodeJS.Timeout | undefined;
    return {
      async start(): Promise<Listener[]> {
        keepAlive = setInterval(ping, options.jsonrpcPingInterval);
        keepAlive.unref();
        await file.start();
        if (options.jsonrpcPort === null) return [];
        const s = createServer((_req, res) => {
          res.writeHead(426, { "Content-Type": "text/plain", Upgrade: "websocket", Connection: "Upgrade" });
          res.end("JSON-RPC 2.0 over WebSocket: connect with a WebSocket client\n");
        });
        s.on("upgrade", upgrade);
        server = s;
        const port = options.jsonrpcPort;
        await new Promise<void>((resolve, reject) => {
          s.once("error", (err: NodeJS.ErrnoException) =>
            reject(
              new SwitchboardError(
                "INVALID_CONFIG",
                `--jsonrpc-port ${port}: cannot listen on ${ctx.host}:${port} (${err.code ?? err.message})`,
                { cause: err },
              ),
            ),
          );
          s.listen(port, ctx.host, () => resolve());
        });
        const a = s.address() as AddressInfo;
        return [{ protocol: "jsonrpc", transport: "ws", host: a.address, port: a.port }];
      },
      async stop(deadlineMs: number): Promise<void> {
        stopping = true;
        clearInterval(keepAlive);
        await file.stop();
        const s = server;
        const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
        closeClients(1001, "server shutting down");
        const force = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          s?.closeAllConnections();
        }, deadlineMs);
        try {
          await Promise.all([closed, waitClientsGone(wss)]);
        } finally {
          clearTimeout(force);
          wss.close();
        }
      },
    };
  },
});

function waitClientsGone(wss: WebSocketServer): Promise<void> {
  if (wss.clients.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let left = wss.clients.size;
    for (const ws of wss.clients) {
      ws.once("close", () => {
        if (--left === 0) resolve();
      });
    }
  });
}

/** The inner params of a hub call (`{method, params}`), where a hub client puts its token. */
function hubInner(params: unknown): unknown {
  return typeof params === "object" && params !== null && !Array.isArray(params)
    ? (params as { params?: unknown }).params
    : undefined;
}
