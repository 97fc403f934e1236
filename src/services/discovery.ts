// Service discovery on registers: a service is `services/<type>/<id>`, its value the endpoint, its TTL the lease.

import {
  type Json,
  type JsonObject,
  jsonEqual,
  type Register,
  type Switchboard,
  SwitchboardError,
} from "../core/index.js";
import { asHealthResult, HEALTH_KEY, type HealthResult } from "./health/types.js";

export const SERVICES_PREFIX = "services/";

/**
 * The Plexus dialect keeps its backends as `backends/<name>` (BackendInfo values with host and
 * port); discovery shows each as the service `plexus/<name>`, so they are listed, read and
 * long-polled beside the `services/` registers.
 */
export const BACKENDS_PREFIX = "backends/";
export const BACKEND_SERVICE_TYPE = "plexus";
/** A backend name: one register-name segment, longer than a service id may be. */
export const BACKEND_NAME = /^[A-Za-z0-9._:-]{1,200}$/;

/** What a registration carries; `host` and `port` are required, any other field is kept in the value. */
export interface ServiceEndpoint {
  readonly host: string;
  readonly port: number;
  readonly protocol?: string;
  readonly tags?: string[];
  readonly [extra: string]: Json | undefined;
}

export interface ServiceRecord {
  readonly type: string;
  readonly id: string;
  /** The register name, services/<type>/<id>. */
  readonly name: string;
  readonly endpoint: JsonObject & { host: string; port: number };
  readonly metadata: JsonObject;
  readonly version: number;
  readonly modRevision: number;
  readonly registeredAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
  /** The last published verdict (metadata.health), null until the first check. */
  readonly health: HealthResult | null;
}

/** Which services a discovery returns. */
export interface ServiceFilter {
  /** Only services whose published health is passing (unchecked ones are left out). */
  readonly healthy?: boolean;
  /** Only services carrying every one of these tags. */
  readonly tags?: readonly string[];
}

/** True when a service passes the filter. */
export function matchesFilter(s: ServiceRecord, filter: ServiceFilter): boolean {
  if (filter.healthy && s.health?.status !== "passing") return false;
  if (filter.tags && filter.tags.length > 0) {
    const tags = Array.isArray(s.endpoint.tags) ? s.endpoint.tags : [];
    for (const t of filter.tags) if (!tags.includes(t)) return false;
  }
  return true;
}

/** Metadata key holding a service's lease length, ms. */
export const LEASE_KEY = "leaseMs";

const SEGMENT = /^[A-Za-z0-9._:-]{1,100}$/;

function checkSegment(what: "type" | "id", v: string): void {
  if (!SEGMENT.test(v)) {
    throw new SwitchboardError("INVALID_NAME", `service ${what} must be 1-100 chars of A-Z a-z 0-9 . _ - :`, {
      details: { [what]: v },
    });
  }
}

export function serviceName(type: string, id: string): string {
  checkSegment("type", type);
  checkSegment("id", id);
  return `${SERVICES_PREFIX}${type}/${id}`;
}

export function servicePrefix(type: string): string {
  checkSegment("type", type);
  return `${SERVICES_PREFIX}${type}/`;
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The register prefixes holding the services of a type: `services/<type>/`, plus `backends/` for `plexus`. */
export function servicePrefixes(type: string): string[] {
  const prefix = servicePrefix(type);
  return type === BACKEND_SERVICE_TYPE ? [prefix, BACKENDS_PREFIX] : [prefix];
}

/** Where a register name puts a service: [type, id], or null when it names none. */
function typeAndId(name: string): [string, string] | null {
  if (name.startsWith(BACKENDS_PREFIX)) {
    const id = name.slice(BACKENDS_PREFIX.length);
    return BACKEND_NAME.test(id) ? [BACKEND_SERVICE_TYPE, id] : null;
  }
  if (!name.startsWith(SERVICES_PREFIX)) return null;
  const rest = name.slice(SERVICES_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1 || rest.indexOf("/", slash + 1) !== -1) return null;
  return [rest.slice(0, slash), rest.slice(slash + 1)];
}

/**
 * The service a register holds, or null when the register is not a well-formed service entry:
 * `services/<type>/<id>`, or a Plexus backend `backends/<name>` (type `plexus`), whose value has
 * a string `host` and a numeric `port`.
 */
export function toService(register: Register): ServiceRecord | null {
  const where = typeAndId(register.name);
  if (!where) return null;
  const v = register.value;
  if (!isObject(v) || typeof v.host !== "string" || typeof v.port !== "number") return null;
  return {
    type: where[0],
    id: where[1],
    name: register.name,
    endpoint: v as JsonObject & { host: string; port: number },
    metadata: register.metadata,
    version: register.version,
    modRevision: register.modRevision,
    registeredAt: register.createdAt,
    updatedAt: register.updatedAt,
    expiresAt: register.expiresAt,
    health: asHealthResult(register.metadata[HEALTH_KEY]),
  };
}

export interface RegisterServiceInput {
  readonly type: string;
  readonly id: string;
  readonly endpoint: ServiceEndpoint;
  readonly metadata?: JsonObject;
  /** Lease, ms; 0 or null = no expiry. */
  readonly ttlMs: number | null;
}

/**
 * The server side of discovery, shared by REST and every dialect that registers services (RPyC,
 * ZeroMQ, JSON-RPC): one place that knows the naming and the value shape.
 */
export class Discovery {
  readonly #core: Switchboard;

  constructor(core: Switchboard) {
    this.#core = core;
  }

  async register(input: RegisterServiceInput): Promise<ServiceRecord> {
    const name = serviceName(input.type, input.id);
    const value: JsonObject = {};
    for (const [k, v] of Object.entries(input.endpoint)) if (v !== undefined) value[k] = v as Json;
    // The lease length is kept beside the endpoint so that a heartbeat restores it exactly.
    const metadata: JsonObject = { ...input.metadata };
    if (input.ttlMs) metadata[LEASE_KEY] = input.ttlMs;
    else delete metadata[LEASE_KEY];
    // metadata.health belongs to the health checker: a registration cannot claim it, and a
    // re-registration of the same endpoint keeps the last verdict (a new endpoint is re-checked
    // at once and starts unchecked). Read outside the guard: at worst the next check republishes.
    delete metadata[HEALTH_KEY];
    const current = this.#core.get(name);
    const kept = current && jsonEqual(current.value, value) ? current.metadata[HEALTH_KEY] : undefined;
    if (kept !== undefined) metadata[HEALTH_KEY] = kept;
    const [result] = await this.#core.set([{ name, value, ttlMs: input.ttlMs, metadata }]);
    return toService(result!.register)!;
  }

  /**
   * Renews the lease without a revision or a wake-up (the core's touch: the deadline moves, value
   * and metadata cannot be overwritten by a stale read). SERVICE_NOT_FOUND when not registered.
   */
  async heartbeat(type: string, id: string, ttlMs?: number | null): Promise<ServiceRecord> {
    const name = this.registerOf(type, id);
    const current = this.#core.get(name);
    if (!current) throw notRegistered(type, id);
    if (name.startsWith(BACKENDS_PREFIX)) {
      // A Plexus backend has no lease: there is nothing to renew, and it stays as it is.
      const backend = toService(current);
      if (!backend) throw notRegistered(type, id);
      return backend;
    }
    const ttl = ttlMs === undefined ? this.#leaseOf(current) : ttlMs;
    try {
      return toService(await this.#core.touch(name, ttl))!;
    } catch (err) {
      // Expired or deregistered between the lookup and the guard.
      if (err instanceof SwitchboardError && err.code === "REGISTER_NOT_FOUND") throw notRegistered(type, id);
      throw err;
    }
  }

  /** True when a registration was removed (a Plexus backend too: the register is the service). */
  async deregister(type: string, id: string): Promise<boolean> {
    const deleted = await this.#core.delete([this.registerOf(type, id)]);
    return deleted.length > 0;
  }

  get(type: string, id: string): ServiceRecord | null {
    const r = this.#core.get(this.registerOf(type, id));
    return r ? toService(r) : null;
  }

  /**
   * The register holding a service: `services/<type>/<id>`, except for a `plexus` id held only by
   * the Plexus backend `backends/<id>`. INVALID_NAME when the type or id cannot name a service.
   */
  registerOf(type: string, id: string): string {
    if (type === BACKEND_SERVICE_TYPE && BACKEND_NAME.test(id)) {
      const own = SEGMENT.test(id) ? `${SERVICES_PREFIX}${type}/${id}` : null;
      if (own !== null && this.#core.get(own)) return own;
      const backend = `${BACKENDS_PREFIX}${id}`;
      if (this.#core.get(backend) || own === null) return backend;
    }
    return serviceName(type, id);
  }

  /** The services of a type that pass the filter, in name order. */
  discover(type: string, filter: ServiceFilter = {}): ServiceRecord[] {
    return this.list(type).filter((s) => matchesFilter(s, filter));
  }

  /** Every service of a type (or of every type when omitted), Plexus backends included, in name order. */
  list(type?: string): ServiceRecord[] {
    const prefixes = type === undefined ? [BACKENDS_PREFIX, SERVICES_PREFIX] : servicePrefixes(type);
    const out: ServiceRecord[] = [];
    for (const view of this.#core.read({ prefixes })) {
      if (!view.found) continue;
      const s = toService(view.register);
      if (s) out.push(s);
    }
    return out;
  }

  /** The lease a renewal restores (metadata.leaseMs, written at registration). */
  #leaseOf(r: Register): number | null {
    const stored = r.metadata[LEASE_KEY];
    if (typeof stored === "number" && stored > 0) return stored;
    if (r.expiresAt === null) return null;
    return Math.max(1000, r.expiresAt - r.updatedAt);
  }
}

function notRegistered(type: string, id: string): SwitchboardError {
  return new SwitchboardError("SERVICE_NOT_FOUND", `service ${type}/${id} is not registered`, {
    details: { type, id },
  });
}
