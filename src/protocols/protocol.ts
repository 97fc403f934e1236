// The protocol seam: what every protocol module is, and what the composition root hands it.

import type { Hono } from "hono";
import type { Logger } from "pino";
import { z } from "zod";
import type { Switchboard } from "../core/index.js";
import type { Metrics } from "../metrics.js";
import type { Principal } from "../services/auth/index.js";
import type { Services } from "../services/index.js";
import type { OpenApiPart } from "./http/openapi.js";

export type Transport = "http" | "tcp" | "udp" | "ws" | "zmq";

/** One bound socket, as `RunningServer.listeners`, `/status` and the startup log report it. */
export interface Listener {
  readonly protocol: string;
  readonly transport: Transport;
  readonly host: string;
  readonly port: number;
}

/** The shared HTTP port: modules that speak HTTP mount their routes here instead of listening. */
export interface HttpMount {
  /** The one hono app served on `--port`. Mount with `app.route(path, sub)` or `app.get(...)`. */
  readonly app: Hono;
  /** Declares route labels for the HTTP metrics: exact paths, or `/first/*` for a whole subtree. */
  label(...routes: string[]): void;
  /** Called on shutdown before the socket closes: ends a long-lived response (SSE, WebSocket). */
  onStop(close: () => void): () => void;
  /** Gives one exact path its own body cap (instead of --max-body-bytes), for routes that stream large bodies. */
  bodyLimit(path: string, maxBytes: number): void;
  /** Upgrade hook for WebSocket protocols on the HTTP port (`path` → handler of the raw upgrade). */
  onUpgrade(path: string, handler: UpgradeHandler): void;
  /** Adds the module's routes to /openapi.json (build the part with the helpers of `http/openapi.ts`). */
  describe(part: OpenApiPart): void;
  /** Every part described so far, in the order the modules were created. */
  described(): readonly OpenApiPart[];
  /**
   * A node-level route served before hono (the long-polls that hold thousands of requests, the
   * provider's write): the host applies what its middleware applies (metrics, epoch header, Host
   * check, auth, the body cap and timeout) and hands over the raw request. Requests the fast path
   * does not take (CORS) reach the hono app's route for the same method and path, which must exist
   * and behave the same.
   */
  fastRoute?(method: FastMethod, path: string, handler: FastHandler): void;
}

export type FastMethod = "GET" | "PUT" | "POST" | "DELETE";

/** A request taken by a node-level route (`fastRoute`). */
export interface FastRequest {
  readonly req: import("node:http").IncomingMessage;
  readonly res: import("node:http").ServerResponse;
  /** The request target (path and query). */
  readonly target: string;
  /** The caller, as the auth middleware resolves it. */
  readonly principal: Principal;
  /** The peer address ("" when unknown). */
  readonly address: string;
  /** Answers `body` (JSON) with the shared headers; later calls and calls after the client left do nothing. */
  send(status: number, body: Buffer | string, headers?: Readonly<Record<string, string>>): void;
  /** Answers an error exactly as the hono app does. */
  fail(err: unknown): void;
  /** The request body as text, under the route's body cap (BODY_TOO_LARGE beyond it); rejects if the client leaves. */
  body(): Promise<string>;
  /** Starts a streamed 200 answer with the shared headers (the body is written to `res`); false when too late. */
  stream(headers: Readonly<Record<string, string>>): boolean;
  /** True once answered or once the client left. */
  readonly finished: boolean;
}

export type FastHandler = (request: FastRequest) => void;

export type UpgradeHandler = (
  req: import("node:http").IncomingMessage,
  socket: import("node:stream").Duplex,
  head: Buffer,
) => void;

/** What the composition root hands a module's `create()`. */
export interface ProtocolContext {
  readonly core: Switchboard;
  readonly services: Services;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly http: HttpMount;
  /** The server's listen address (`--host`), for modules that own their sockets. */
  readonly host: string;
  /** Every listener once the server is up (for /status and protocols that advertise ports). */
  readonly listeners: () => readonly Listener[];
  /** False while the server loads or stops. */
  readonly isReady: () => boolean;
  /** The server settings every protocol may read (limits, default wait, shutdown timeout). */
  readonly settings: SharedSettings;
}

export interface SharedSettings {
  readonly defaultWaitMs: number;
  readonly maxWaitMs: number;
  readonly maxBodyBytes: number;
  readonly maxNames: number;
  readonly version: string;
}

export interface ProtocolInstance {
  /** Binds its sockets (if any) and resolves with them; HTTP-mounted modules resolve with []. */
  start(): Promise<Listener[]>;
  /** Stops accepting, ends streams, closes connections; forces what is left at `deadlineMs`. */
  stop(deadlineMs: number): Promise<void>;
}

/**
 * A protocol module. Its options schema's keys are settings like any other (flag `--kebab-key`,
 * env `SWITCHBOARD_UPPER_SNAKE`, config-file key); each key's `.describe()` text is its line in
 * `serve --help` and docs/configuration.md. `create` receives the validated options.
 */
export interface ProtocolModule<S extends z.ZodRawShape = z.ZodRawShape> {
  readonly name: string;
  /**
   * "none" for a wire format that carries no credentials (the RPyC, CGSE and Plexus dialects): with
   * auth on, such a module is handed the loopback address as its host, so it is not reachable from
   * the network unless auth is off.
   */
  readonly credentials?: "none";
  /**
   * The option key of such a module's allowed networks (see network.ts): when that list is set,
   * the module is handed `--host` instead of loopback, and refuses peers outside the list itself.
   */
  readonly allowOption?: string;
  readonly options: z.ZodObject<S>;
  create(ctx: ProtocolContext, options: z.output<z.ZodObject<S>>): ProtocolInstance;
}

/** Declares a module with its options type inferred from the schema. */
export function defineProtocol<S extends z.ZodRawShape>(module: ProtocolModule<S>): ProtocolModule<S> {
  return module;
}

/**
 * A port setting: a number (0 = any free port) or `off` (the listener is not started).
 * Parsed to a number, or null for off.
 */
export function portOption(defaultPort: number | "off", description: string) {
  return (
    z
      .union([z.number(), z.string()])
      .transform((v, ctx) => {
        if (v === "off") return null;
        const n = typeof v === "number" ? v : /^\d+$/.test(v) ? Number(v) : Number.NaN;
        if (!Number.isInteger(n) || n < 0 || n > 65535) {
          ctx.addIssue({ code: "custom", message: `not a port (0-65535 or "off"): ${JSON.stringify(v)}` });
          return z.NEVER;
        }
        return n;
      })
      // prefault: the default goes through the transform too ("off" → null).
      .prefault(defaultPort)
      .describe(description)
  );
}

/** An on/off setting ("true"/"false"/"1"/"0"/"on"/"off" from flags and env). */
export function switchOption(defaultValue: boolean, description: string) {
  return z
    .union([z.boolean(), z.enum(["true", "false", "1", "0", "on", "off"])])
    .transform((v) => v === true || v === "true" || v === "1" || v === "on")
    .default(defaultValue)
    .describe(description);
}
