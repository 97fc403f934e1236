// Real loopback targets for health checks and the proxy: a switchable HTTP health endpoint and a TCP echo server.

import { once } from "node:events";
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";

export interface HttpTarget {
  readonly port: number;
  readonly url: string;
  /** Status answered from now on (200 = healthy). */
  status: number;
  /** How each request is answered; replace to stall, redirect or send a big body. */
  respond: (res: ServerResponse, status: number) => void;
  /** Requests served so far. */
  readonly hits: number;
  close(): Promise<void>;
}

export async function startHttpTarget(): Promise<HttpTarget> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const target: HttpTarget = {
    port: 0,
    url: "",
    status: 200,
    respond: (res, status) => {
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 300 ? "ok" : "down");
    },
    get hits() {
      return hits;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
  const server = createHttpServer((_req, res) => {
    hits++;
    target.respond(res, target.status);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  Object.assign(target, { port, url: `http://127.0.0.1:${port}/health` });
  return target;
}

export interface TcpEcho {
  readonly port: number;
  readonly server: Server;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** Echoes every byte back on each connection (pipe, so backpressure applies). */
export async function startTcpEcho(): Promise<TcpEcho> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    s.pipe(s);
  });
  server.maxConnections = 5000;
  server.listen(0, "127.0.0.1", 2048);
  await once(server, "listening");
  return {
    port: (server.address() as { port: number }).port,
    server,
    get accepted() {
      return accepted;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, "close");
  return port;
}
