// Admission of connections to the HTTP port: a cap below the fd limit that answers 503 + Retry-After, while
// health checks and scrapes still get through on a small reserve of extra connections.

import { type Server as HttpServer, STATUS_CODES } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import { SwitchboardError } from "../../core/index.js";

export interface AdmissionOptions {
  readonly maxConnections: number;
  /** Seconds a refused client is told to wait. */
  readonly retryAfterSeconds: number;
  /** Answers an ops request (GET /healthz, /readyz, /metrics) on an over-limit connection. */
  readonly answer: (method: string, path: string) => Promise<Response>;
}

/** Connections past maxConnections that may still ask for health, readiness or metrics. */
export const OPS_RESERVE = 16;
const OPS_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
/** An over-limit client has this long to send its request line. */
const OVERFLOW_READ_MS = 2000;

export interface Admission {
  readonly server: Server;
  /** Connections open now (admitted and over-limit). */
  readonly open: () => number;
}

/** A net server that hands admitted sockets to `http` and answers the rest itself. */
export function createAdmission(http: HttpServer, o: AdmissionOptions, log: Logger): Admission {
  let open = 0;
  const server = createServer((socket) => {
    open += 1;
    socket.once("close", () => {
      open -= 1;
    });
    if (open <= o.maxConnections) {
      http.emit("connection", socket);
      return;
    }
    if (open > o.maxConnections + OPS_RESERVE) {
      socket.destroy();
      return;
    }
    overflow(socket, o, log);
  });
  return { server, open: () => open };
}

function overflow(socket: Socket, o: AdmissionOptions, log: Logger): void {
  socket.setTimeout(OVERFLOW_READ_MS, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  let head = "";
  const onData = (chunk: Buffer) => {
    head += chunk.toString("latin1");
    const eol = head.indexOf("\r\n");
    if (eol === -1 && head.length < 8192) return;
    socket.off("data", onData);
    socket.pause();
    const [method = "", target = ""] = head.slice(0, eol === -1 ? head.length : eol).split(" ");
    const path = target.split("?")[0] ?? "";
    const response =
      (method === "GET" || method === "HEAD") && OPS_PATHS.has(path)
        ? o.answer(method, target)
        : Promise.resolve(refusal(o));
    response
      .then((r) => writeRaw(socket, r, method === "HEAD"))
      .catch((err: unknown) => {
        log.debug({ err }, "answering an over-limit connection failed");
        socket.destroy();
      });
  };
  socket.on("data", onData);
}

function refusal(o: AdmissionOptions): Response {
  const e = new SwitchboardError(
    "TOO_MANY_CONNECTIONS",
    `the server holds its maximum of ${o.maxConnections} connections; retry later`,
    { retryAfter: o.retryAfterSeconds, details: { maxConnections: o.maxConnections } },
  );
  return Response.json({ error: e.toJSON() }, { status: 503, headers: { "Retry-After": String(o.retryAfterSeconds) } });
}

/** Writes a fetch Response as HTTP/1.1 on a raw socket and closes it. */
async function writeRaw(socket: Socket, r: Response, head: boolean): Promise<void> {
  const body = Buffer.from(await r.arrayBuffer());
  const lines = [`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? "Status"}`];
  r.headers.forEach((v, k) => {
    if (k !== "content-length" && k !== "connection") lines.push(`${k}: ${v}`);
  });
  lines.push(`Content-Length: ${body.length}`, "Connection: close", "", "");
  socket.end(head ? lines.join("\r\n") : Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]));
}
