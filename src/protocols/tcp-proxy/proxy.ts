// The health-aware TCP proxy: first line names a registry or service; a healthy target gets the connection piped both ways.

import { connect, createServer, type Server, type Socket } from "node:net";
import client from "prom-client";
import { type ErrorCode, isValidName } from "../../core/index.js";
import { targetOf } from "../../services/health/index.js";
import { registryName } from "../../services/registry/record.js";
import type { ProtocolContext } from "../protocol.js";
import { readFirstLine } from "./first-line.js";

export interface ProxyOptions {
  readonly port: number;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly firstLineTimeoutMs: number;
}

type Refusal = Extract<
  ErrorCode,
  | "REGISTRY_NOT_FOUND"
  | "UNHEALTHY"
  | "CONNECT_FAILED"
  | "TOO_MANY_CONNECTIONS"
  | "FIRST_LINE_TIMEOUT"
  | "FIRST_LINE_TOO_LONG"
  | "SHUTTING_DOWN"
>;

/** How long a refused client may take to read its error line before the socket is cut. */
const LINGER_MS = 2000;

/**
 * The register a first line names: `<type>/<id>` is a service when one is registered, anything
 * else (or a `<type>/<id>` with no such service) a registry record `registries/<line>`.
 */
function resolveName(ctx: ProtocolContext, line: string): string | null {
  if (/^[^/]+\/[^/]+$/.test(line)) {
    const svc = `services/${line}`;
    if (isValidName(svc) && ctx.core.get(svc)) return svc;
  }
  const rec = registryName(line);
  return line !== "" && isValidName(rec) && ctx.core.get(rec) ? rec : null;
}

export class TcpProxy {
  readonly #ctx: ProtocolContext;
  readonly #o: ProxyOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #bytes: client.Counter<"direction">;
  readonly #refusals: client.Counter<"reason">;
  #stopping = false;

  constructor(ctx: ProtocolContext, options: ProxyOptions) {
    this.#ctx = ctx;
    this.#o = options;
    // allowHalfOpen: a client that half-closes after its request still gets the whole answer.
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.#accept(s));
    const registers = [ctx.metrics.registry];
    const sockets = this.#sockets;
    new client.Gauge({
      name: "switchboard_proxy_connections",
      help: "Client connections the TCP proxy holds (reading the first line or piping).",
      registers,
      collect() {
        this.set(sockets.size);
      },
    });
    this.#bytes = new client.Counter({
      name: "switchboard_proxy_bytes_total",
      help: "Bytes relayed by the TCP proxy: up = client to target, down = target to client.",
      labelNames: ["direction"] as const,
      registers,
    });
    this.#refusals = new client.Counter({
      name: "switchboard_proxy_refusals_total",
      help: "Proxy connections refused with an ERR line, by code.",
      labelNames: ["reason"] as const,
      registers,
    });
  }

  async listen(host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen({ host, port: this.#o.port, backlog: 2048 }, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    return (this.#server.address() as { port: number }).port;
  }

  /** Stops accepting; open tunnels may finish until the deadline, then are cut. */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#sockets.size > 0) {
      const cut = setTimeout(() => {
        for (const s of this.#sockets) s.destroy();
      }, deadlineMs);
      await closed;
      clearTimeout(cut);
    } else {
      await closed;
    }
  }

  #accept(socket: Socket): void {
    socket.on("error", () => undefined); // resets are ordinary here; close handles the cleanup
    if (this.#stopping) {
      this.#refuse(socket, "SHUTTING_DOWN", "the proxy is stopping");
      return;
    }
    if (this.#sockets.size >= this.#o.maxConnections) {
      this.#refuse(socket, "TOO_MANY_CONNECTIONS", `the proxy holds ${this.#o.maxConnections} connections`);
      return;
    }
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.resume();
    void this.#serve(socket).catch((err: unknown) => {
      this.#ctx.log.error({ err }, "proxy connection failed");
      socket.destroy();
    });
  }

  async #serve(socket: Socket): Promise<void> {
    const first = await readFirstLine(socket, this.#o.firstLineTimeoutMs);
    if (!first.ok) {
      if (first.reason === "timeout") {
        return this.#refuse(socket, "FIRST_LINE_TIMEOUT", `no target id within ${this.#o.firstLineTimeoutMs} ms`);
      }
      if (first.reason === "too_long")
        return this.#refuse(socket, "FIRST_LINE_TOO_LONG", "the first line exceeds 256 bytes");
      socket.destroy();
      return;
    }
    const line = first.line.trim();
    const name = resolveName(this.#ctx, line);
    if (!name) return this.#refuse(socket, "REGISTRY_NOT_FOUND", `no registry or service ${JSON.stringify(line)}`);
    const health = await this.#ctx.services.health.status(name);
    const register = this.#ctx.core.get(name);
    const endpoint = register ? targetOf(register)?.endpoint : null;
    if (!health || !register) return this.#refuse(socket, "REGISTRY_NOT_FOUND", `${line} is gone`);
    if (health.status !== "passing")
      return this.#refuse(socket, "UNHEALTHY", `${line} is ${health.status}: ${health.output}`);
    if (!endpoint) return this.#refuse(socket, "CONNECT_FAILED", `${line} names no host and port`);
    if (socket.destroyed) return;
    this.#tunnel(socket, endpoint, first.rest, first.lineBytes, line);
  }

  #tunnel(socket: Socket, endpoint: { host: string; port: number }, early: Buffer, lineBytes: number, line: string) {
    const upstream = connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true });
    upstream.on("error", () => undefined);
    let connected = false;
    const connectTimer = setTimeout(() => upstream.destroy(), this.#o.connectTimeoutMs);
    const failed = () => {
      if (connected) return;
      clearTimeout(connectTimer);
      this.#refuse(socket, "CONNECT_FAILED", `cannot connect to ${line} at ${endpoint.host}:${endpoint.port}`);
    };
    upstream.once("close", failed);
    socket.once("close", () => {
      if (!connected) upstream.destroy();
    });
    upstream.once("connect", () => {
      connected = true;
      // A relay must not add Nagle delays of its own: small writes go out as they come.
      socket.setNoDelay(true);
      upstream.setNoDelay(true);
      clearTimeout(connectTimer);
      upstream.off("close", failed);
      this.#ctx.metrics.operations.labels("tcp-proxy", "connect").inc();
      // Bytes sent in the same packets as the first line go first, unchanged.
      if (early.length > 0) upstream.write(early);
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.resume();
      // Idle: the client socket's timer is reset by reads (up) and writes (down) alike, so it
      // fires only when no byte moved either way for the whole timeout.
      socket.setTimeout(this.#o.idleTimeoutMs, () => this.#cut(socket, upstream));
      const done = () => {
        // Everything the client sent but its first line went up (the early bytes included).
        this.#bytes.labels("up").inc(Math.max(0, socket.bytesRead - lineBytes));
        this.#bytes.labels("down").inc(upstream.bytesRead);
      };
      // Either side gone for good: the other goes too (a half-close is passed on by pipe()).
      socket.once("close", () => {
        upstream.destroy();
        done();
      });
      upstream.once("close", () => socket.destroy());
    });
  }

  #cut(a: Socket, b: Socket): void {
    a.destroy();
    b.destroy();
  }

  /** Writes one `ERR <CODE> <message>` line and closes, reading (and dropping) what the client still sends. */
  #refuse(socket: Socket, code: Refusal, message: string): void {
    this.#refusals.labels(code).inc();
    this.#ctx.metrics.errors.labels("tcp-proxy", code).inc();
    if (socket.destroyed) return;
    const oneLine = message.replace(/[\r\n]+/g, " ").slice(0, 400);
    socket.end(`ERR ${code} ${oneLine}\n`);
    // Draining keeps the kernel from answering unread data with a reset that could eat the line.
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once("close", () => clearTimeout(linger));
  }
}
