// What an RPyC registry request does: decode, check, and translate it into discovery calls; the reply to send, if any.

import type { Logger } from "pino";
import { isSwitchboardError, type Switchboard } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";
import type { ServiceRecord, Services } from "../../services/index.js";
import { checkServiceAccess, type NetworkGate } from "../network.js";
import { type Brine, decode, encode } from "./brine.js";
import { type Command, parseCommand } from "./commands.js";
export const PROTOCOL = "rpyc";

/** A handler's "send nothing" (None is a reply: LIST answers it when listing is off). */
const NO_REPLY = Symbol("no reply");

/** The largest datagram the stock server and clients read. */
export const MAX_MESSAGE_BYTES = 1500;

export interface RegistrySettings {
  /** How long a registration lives without a renewal (the stock server's pruning timeout). */
  readonly pruneMs: number;
  /** Answer LIST; when false LIST answers None, as the stock server does with listing disabled. */
  readonly allowListing: boolean;
}

export interface RegistryDeps {
  /** The allowed networks and policy of the listener (--rpyc-allow, --rpyc-policy). */
  readonly gate?: NetworkGate;
  readonly core: Switchboard;
  readonly services: Services;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/** Where a request came from and how much reply its client reads. */
export interface RequestSource {
  readonly transport: "udp" | "tcp";
  readonly address: string;
  /** Bytes the client reads for a LIST reply (UDP clients read ten datagrams' worth, TCP ones 1,500). */
  readonly listReplyBytes: number;
}

/** Handles one request; resolves with the encoded reply, or null when the request gets none. Never rejects. */
export type RegistryHandler = (data: Uint8Array, from: RequestSource) => Promise<Buffer | null>;

/**
 * The mapping onto discovery: an alias (upper-cased, as the stock server keys it) is the service
 * type, `<source ip>:<port>` the id, `{host, port, protocol: "rpyc"}` the endpoint, the pruning
 * timeout the lease. A repeated REGISTER writes the same value again, which the core turns into a
 * lease refresh with no revision and no wake-up: the keepalive costs nothing downstream.
 */
export function createRegistryHandler(deps: RegistryDeps, settings: RegistrySettings): RegistryHandler {
  const { core, services, metrics, log } = deps;
  const discovery = services.discovery;

  // Debug, not warn: anyone who can reach the port can send bad requests, and the counter already
  // tells an operator that drops happen; the log says which sender and why when asked for.
  const drop = (code: string, from: RequestSource, detail: string) => {
    metrics.errors.labels(PROTOCOL, code).inc();
    log.debug({ transport: from.transport, from: from.address, code, detail }, "rpyc request dropped");
    return null;
  };

  const alive = (s: ServiceRecord, now: number) => s.expiresAt === null || s.expiresAt > now;

  const register = async (aliases: readonly string[], port: number, host: string, from: RequestSource) => {
    const types = [...new Set(aliases.map((a) => a.toUpperCase()))];
    const results = await Promise.allSettled(
      types.map((type) =>
        discovery.register({
          type,
          id: `${host}:${port}`,
          endpoint: { host, port, protocol: PROTOCOL },
          ttlMs: settings.pruneMs,
        }),
      ),
    );
    let failed = 0;
    for (const [i, r] of results.entries()) {
      if (r.status === "fulfilled") continue;
      failed++;
      const code = isSwitchboardError(r.reason) ? r.reason.code : "INTERNAL";
      drop(code, from, `REGISTER ${types[i]}: ${(r.reason as Error).message}`);
    }
    // The stock server always acknowledges; here a registration that stored nothing is not
    // acknowledged, so the client's own "no registry acknowledged" warning tells the truth.
    return failed > 0 && failed === types.length ? NO_REPLY : "OK";
  };

  const unregister = async (port: number, host: string) => {
    // One scan of the services: the id is the same under every type, and unregistering is rare
    // (a server closing), so no index by id is kept (a protocol keeps no state of its own).
    const id = `${host}:${port}`;
    const mine = discovery.list().filter((s) => s.id === id && s.endpoint.host === host && s.endpoint.port === port);
    await Promise.all(mine.map((s) => discovery.deregister(s.type, s.id)));
    return "OK";
  };

  const query = (name: string): Brine => {
    let found: ServiceRecord[];
    try {
      found = discovery.list(name.toUpperCase());
    } catch (err) {
      // A name that cannot be a service type names no service: the stock answer is an empty tuple.
      if (isSwitchboardError(err) && err.code === "INVALID_NAME") return [];
      throw err;
    }
    const now = core.clock.now();
    const pairs = found
      .filter((s) => alive(s, now) && Number.isInteger(s.endpoint.port))
      // Least recently renewed first, as the stock server orders by keepalive time.
      .sort((a, b) => (a.expiresAt ?? Number.POSITIVE_INFINITY) - (b.expiresAt ?? Number.POSITIVE_INFINITY))
      .map((s): Brine => [s.endpoint.host, s.endpoint.port]);
    return fitTuple(pairs, MAX_MESSAGE_BYTES);
  };

  const list = (filterHost: string | null, maxBytes: number): Brine => {
    if (!settings.allowListing) return null;
    const now = core.clock.now();
    const names = new Set<string>();
    for (const s of discovery.list()) {
      // Only types an rpyc client can QUERY (it upper-cases what it asks for).
      if (s.type !== s.type.toUpperCase() || !alive(s, now)) continue;
      if (filterHost === null || s.endpoint.host === filterHost) names.add(s.type);
    }
    return fitTuple([...names], maxBytes);
  };

  const execute = async (command: Command, from: RequestSource): Promise<Brine | typeof NO_REPLY> => {
    const host = normalizeHost(from.address);
    switch (command.op) {
      case "register":
        return register(command.aliases, command.port, host, from);
      case "unregister":
        return unregister(command.port, host);
      case "query":
        return query(command.name);
      case "list":
        return list(command.filterHost, from.listReplyBytes);
    }
  };

  return async (data, from) => {
    // A peer outside --rpyc-allow gets no answer (the gate logs and counts it).
    if (deps.gate && !deps.gate.admits(from.address)) return null;
    const decoded = decode(data);
    if (!decoded.ok) return drop("MALFORMED", from, decoded.detail);
    const parsed = parseCommand(decoded.value);
    if (!parsed.ok) return drop("MALFORMED", from, parsed.detail);
    try {
      if (deps.gate) {
        const op = parsed.command.op;
        checkServiceAccess(
          services.auth,
          deps.gate.principal(),
          op === "register" || op === "unregister" ? "write" : "read",
        );
      }
      const reply = await execute(parsed.command, from);
      if (reply === NO_REPLY) return null;
      metrics.operations.labels(PROTOCOL, parsed.command.op).inc();
      return encode(reply);
    } catch (err) {
      if (isSwitchboardError(err)) return drop(err.code, from, err.message);
      log.error({ err, transport: from.transport, from: from.address }, "rpyc request failed");
      metrics.errors.labels(PROTOCOL, "INTERNAL").inc();
      return null;
    }
  };
}

/** An IPv4 client seen through a dual-stack socket is recorded by its IPv4 address, as the stock server sees it. */
export function normalizeHost(address: string): string {
  return address.toLowerCase().startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** The leading items whose tuple encodes within maxBytes, so a long answer is cut short rather than unreadable. */
function fitTuple(items: Brine[], maxBytes: number): Brine[] {
  let size = 5; // the largest tuple header (tag + 4-byte count); generous by at most 4 bytes
  const out: Brine[] = [];
  for (const item of items) {
    size += encode(item).length;
    if (size > maxBytes) break;
    out.push(item);
  }
  return out;
}
