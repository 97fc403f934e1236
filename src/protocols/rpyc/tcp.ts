// The RPyC registry over TCP: one request per connection, no length prefix; the reply in one write, then close.

import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import type { Metrics } from "../../metrics.js";
import { decode } from "./brine.js";
import { MAX_MESSAGE_BYTES, PROTOCOL, type RegistryHandler } from "./registry.js";

/** A connection that has not sent a whole request (or read its reply) by then is closed. Clients wait 2 s. */
const IDLE_MS = 3000;
const MAX_CONNECTIONS = 512;

export interface TcpRegistry {
  readonly port: number;
  close(deadlineMs: number): Promise<void>;
}

/** Listens on address:port (0 = any free port); rejects with the socket error (EADDRINUSE…) when it cannot. */
export function listenTcp(
  address: string,
  port: number,
  handle: RegistryHandler,
  log: Logger,
  metrics: Metrics,
): Promise<TcpRegistry> {
  const sockets = new Set<Socket>();
  /** Connections whose request is being handled: a stop lets them answer (until the deadline). */
  const busy = new Set<Socket>();
  const malformed = (socket: Socket, detail: string) => {
    metrics.errors.labels(PROTOCOL, "MALFORMED").inc();
    log.debug({ transport: "tcp", from: socket.remoteAddress, detail }, "rpyc request dropped");
    socket.destroy();
  };

  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", (err) => log.debug({ err }, "rpyc tcp connection error"));
    const address = socket.remoteAddress ?? "";
    let buffered: Buffer = Buffer.alloc(0);
    let complete = false;
    socket.setTimeout(IDLE_MS, () => {
      if (complete || buffered.length === 0) socket.destroy();
      else malformed(socket, `no whole request within ${IDLE_MS} ms`);
    });
    // The stock client sends its request in one send(); it may still arrive in pieces, so bytes are
    // gathered until they decode to a whole value, up to the 1,500 bytes the stock server reads.
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_MESSAGE_BYTES) return malformed(socket, "request larger than 1,500 bytes");
      const decoded = decode(buffered);
      if (!decoded.ok && decoded.reason === "truncated") return;
      complete = true;
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.pause();
      busy.add(socket);
      void handle(buffered, { transport: "tcp", address, listReplyBytes: MAX_MESSAGE_BYTES }).then((out) => {
        busy.delete(socket);
        if (socket.destroyed) return;
        if (out) socket.end(out);
        else socket.destroy();
      });
    };
    // A connection that sent nothing (a port probe, a TCP health check) is not a bad request.
    const onEnd = () =>
      buffered.length === 0 ? socket.destroy() : malformed(socket, "connection ended inside a request");
    socket.on("data", onData);
    socket.on("end", onEnd);
  });
  server.maxConnections = MAX_CONNECTIONS;

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off("error", reject);
      server.on("error", (err) => log.warn({ err }, "rpyc tcp listener error"));
      const bound = server.address();
      resolve({
        port: typeof bound === "object" && bound ? bound.port : port,
        close: (deadlineMs) =>
          new Promise<void>((done) => {
            // A request in flight has a few ms left to answer; the deadline cuts whatever remains.
            const force = setTimeout(() => {
              for (const s of sockets) s.destroy();
            }, deadlineMs);
            force.unref();
            server.close(() => {
              clearTimeout(force);
              done();
            });
            for (const s of sockets) if (!busy.has(s)) s.destroy();
          }),
      });
    });
  });
}
