// Admission of connections to the HTTP port: a cap below the fd limit that answers 503 + Retry-After, while
// health checks and scrapes still get through on a small reserve of extra connections.

import { type Server as HttpServer, STATUS_CODES } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import { SwitchboardError } from "../../core/index.js";

export interface AdmissionOptions {
  readonly maxConnections: number;
  /** Connections one client address may hold at once (loopback included); more are destroyed at accept. */
  readonly maxConnectionsPerIp: number;
  /** Told of each refused connection: `per_ip` (destroyed at accept) or `max_connections` (503 or destroyed). */
  readonly onRefused?: (reason: RefusalReason) => void;
  /** Clock for the rate limit of the refusal log line, ms (default Date.now). */
  readonly now?: () => number;
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
/** Refusals past the per-address cap are logged at most once per this interval, with a count. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

export type RefusalReason = "per_ip" | "max_connections";

/** The client address a cap counts: IPv4 clients seen on a dual-stack socket (::ffff:a.b.c.d) by their IPv4 address. */
export function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress;
  if (a === undefined) return "unknown";
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

export interface Admission {
  readonly server: Server;
  /** Connections open now (admitted and over-limit). */
  readonly open: () => number;
  /** Connections open now per client address (only addresses holding one or more). */
  readonly openFrom: (address: string) => number;
}

/** A net server that hands admitted sockets to `http` and answers the rest itself. */
export function createAdmission(http: HttpServer, o: AdmissionOptions, log: Logger): Admission {
  let open = 0;
  const perAddress = new Map<string, number>();
  const now = o.now ?? Date.now;
  // The per-address refusals since the last log line: a flood is one warning per interval, not one per socket.
  const refusals = { count: 0, address: "", loggedAt: Number.NEGATIVE_INFINITY };
  const refusePerAddress = (socket: Socket, address: string) => {
    socket.destroy();
    o.onRefused?.("per_ip");
    refusals.count += 1;
    refusals.address = address;
    const t = now();
    if (t - refusals.loggedAt < REFUSAL_LOG_INTERVAL_MS) return;
    log.warn(
      { address, refused: refusals.count, maxConnectionsPerIp: o.maxConnectionsPerIp },
      "connections refused: the client address holds --max-connections-per-ip",
    );
    refusals.count = 0;
    refusals.loggedAt = t;
  };
  // As node:http's own listener does: no Nagle delay on answers (a long-poll answer or a write ack is one small write).
  const server = createServer({ noDelay: true }, (socket) => {
    // Counted before anything is read or allocated for it: a refused socket costs an accept and a close.
    const address = clientAddress(socket);
    const mine = (perAddress.get(address) ?? 0) + 1;
    if (mine > o.maxConnectionsPerIp) {
      refusePerAddress(socket, address);
      return;
    }
    perAddress.set(address, mine);
    open += 1;
    socket.once("close", () => {
      open -= 1;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    if (open <= o.maxConnections) {
      http.emit("connection", socket);
      return;
    }
    if (open > o.maxConnections + OPS_RESERVE) {
      o.onRefused?.("max_connections");
      socket.destroy();
      return;
    }
    overflow(socket, o, log);
  });
  return { server, open: () => open, openFrom: (address) => perAddress.get(address) ?? 0 };
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
    const ops = (method === "GET" || method === "HEAD") && OPS_PATHS.has(path);
    if (!ops) o.onRefused?.("max_connections");
    const response = ops ? o.answer(method, target) : Promise.resolve(refusal(o));
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
