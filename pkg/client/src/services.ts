// Service discovery on top of registers: a service is the register services/<type>/<id> whose value is its endpoint.

import { checkName } from "./errors.js";
import type { Provision } from "./provision.js";
import type { Duration, FoundItem, Json, JsonObject } from "./types.js";

export interface ServiceOptions {
  /** Kind of service, e.g. "http-api"; one path segment. */
  readonly type: string;
  /** This instance, unique within its type. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly protocol?: string | undefined;
  /** More endpoint fields stored in the value next to host and port. */
  readonly attributes?: JsonObject | undefined;
  readonly metadata?: JsonObject | undefined;
  /** Required: the registration lives as long as this client keeps refreshing it (at half the TTL). */
  readonly ttl: Duration;
  readonly signal?: AbortSignal | undefined;
}

export interface ServiceRegistration {
  /** The register name, services/<type>/<id>. */
  readonly name: string;
  readonly provision: Provision;
  /** Stops the heartbeat and deregisters (unless `keep`, then the TTL runs out). */
  close(options?: { keep?: boolean | undefined }): Promise<void>;
}

export interface Service {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly protocol?: string;
  /** The whole register value (host, port and any attributes). */
  readonly value: JsonObject;
  readonly metadata: JsonObject;
  readonly expiresAt: string | null;
  /** The server's last health verdict (metadata.health), null until the service was first checked. */
  readonly health: ServiceHealth | null;
}

/** A health verdict as the server publishes it in metadata.health (checkedAt in epoch ms). */
export interface ServiceHealth {
  readonly status: "passing" | "warning" | "critical";
  readonly checkedAt: number;
  readonly latencyMs: number;
  readonly output: string;
}

/** Which services discover() returns. */
export interface DiscoverFilter {
  /** Only services whose last health verdict is passing (unchecked ones are left out). */
  readonly healthy?: boolean | undefined;
  /** Only services whose value lists every one of these tags. */
  readonly tags?: readonly string[] | undefined;
}

function healthOf(metadata: JsonObject): ServiceHealth | null {
  const h = metadata.health;
  if (
    h === undefined ||
    !isObject(h) ||
    typeof h.status !== "string" ||
    !["passing", "warning", "critical"].includes(h.status)
  ) {
    return null;
  }
  return {
    status: h.status as ServiceHealth["status"],
    checkedAt: typeof h.checkedAt === "number" ? h.checkedAt : 0,
    latencyMs: typeof h.latencyMs === "number" ? h.latencyMs : 0,
    output: typeof h.output === "string" ? h.output : "",
  };
}

/** True when a service passes the filter. */
export function matchesFilter(s: Service, filter: DiscoverFilter): boolean {
  if (filter.healthy && s.health?.status !== "passing") return false;
  if (filter.tags && filter.tags.length > 0) {
    const tags = Array.isArray(s.value.tags) ? s.value.tags : [];
    if (!filter.tags.every((t) => tags.includes(t))) return false;
  }
  return true;
}

export function servicePrefix(type: string): string {
  if (type.length === 0 || type.includes("/")) throw new TypeError(`invalid service type ${JSON.stringify(type)}`);
  return `services/${type}/`;
}

export function serviceName(type: string, id: string): string {
  if (id.length === 0 || id.includes("/")) throw new TypeError(`invalid service id ${JSON.stringify(id)}`);
  const name = `${servicePrefix(type)}${id}`;
  checkName(name);
  return name;
}

export function serviceValue(o: ServiceOptions): JsonObject {
  const value: JsonObject = { ...o.attributes, host: o.host, port: o.port };
  if (o.protocol !== undefined) value.protocol = o.protocol;
  return value;
}

function isObject(v: Json): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The services among a prefix read; entries whose value is not an endpoint are skipped. */
export function toServices(type: string, items: readonly FoundItem[]): Service[] {
  const prefix = servicePrefix(type);
  const out: Service[] = [];
  for (const item of items) {
    const v = item.value;
    if (!item.name.startsWith(prefix) || !isObject(v)) continue;
    if (typeof v.host !== "string" || typeof v.port !== "number") continue;
    const base = {
      type,
      id: item.name.slice(prefix.length),
      name: item.name,
      host: v.host,
      port: v.port,
      value: v,
      metadata: item.metadata,
      expiresAt: item.expiresAt,
      health: healthOf(item.metadata),
    };
    out.push(typeof v.protocol === "string" ? { ...base, protocol: v.protocol } : base);
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
