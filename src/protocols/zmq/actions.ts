// The CGSE registry actions (register, deregister, renew, get, list, discover, health, info, terminate) over discovery.

import { randomInt, randomUUID } from "node:crypto";
import PQueue from "p-queue";
import { isSwitchboardError, type Json, type JsonObject } from "../../core/index.js";
import { BACKENDS_PREFIX } from "../../services/discovery.js";
import type { Discovery, ServiceRecord } from "../../services/index.js";
import { type CgseRecord, hasType, parseRegistration, toCgseRecord, UNTYPED } from "./records.js";

/** A reply body; `code` is for metrics and logs only and is not sent. */
export interface ActionResult {
  readonly body: JsonObject;
  /** The failure's code for the error metric, undefined on success. */
  readonly code?: string;
}

export interface ActionDeps {
  readonly discovery: Discovery;
  readonly now: () => number;
  readonly enforceUniqueTypes: boolean;
  readonly allowTerminate: boolean;
  /** Bound ports for `info` (null when a socket is off). */
  readonly ports: () => { req: number | null; pub: number | null; hb: number | null };
  /** Called after a permitted `terminate` has been answered. */
  readonly terminate: () => void;
  /** Tells the event publisher what a deregistered service looked like (its delete event carries only the name). */
  readonly willDeregister: (name: string, record: JsonObject) => () => void;
}

const ok = (body: JsonObject): ActionResult => ({ body: { success: true, ...body } });
const fail = (error: string, code: string, extra: JsonObject = {}): ActionResult => ({
  body: { success: false, error, ...extra },
  code,
});

export class Actions {
  readonly #d: ActionDeps;
  readonly #registering = new PQueue({ concurrency: 1 });

  constructor(deps: ActionDeps) {
    this.#d = deps;
  }

  /** Answers one parsed request body (a JSON object). */
  async handle(request: JsonObject): Promise<ActionResult> {
    const action = request.action;
    if (!action) return fail("Missing required field: action", "INVALID_BODY");
    switch (action) {
      case "register":
        return this.#register(request);
      case "deregister":
        return this.#deregister(request);
      case "renew":
        return this.renew(request);
      case "get":
        return this.#get(request);
      case "list":
        return this.#list(request);
      case "discover":
        return this.#discover(request);
      case "health":
        return ok({ status: "ok", timestamp: this.#seconds() });
      case "info":
        return this.#info();
      case "terminate":
        return this.#terminate();
      default:
        return fail(
          `Unknown action: ${typeof action === "string" ? action : JSON.stringify(action)}`,
          "UNKNOWN_ACTION",
        );
    }
  }

  /** The heartbeat socket's one action. */
  async renew(request: JsonObject): Promise<ActionResult> {
    const id = request.service_id;
    if (!id) return fail("Missing required field: service_id", "INVALID_BODY");
    const s = this.#find(id);
    if (!s) return fail("Service not found or could not be renewed", "SERVICE_NOT_FOUND");
    try {
      await this.#d.discovery.heartbeat(s.type, s.id);
    } catch (err) {
      return this.#failed("Service not found or could not be renewed", err);
    }
    return ok({ message: "Service renewed successfully" });
  }

  async #register(request: JsonObject): Promise<ActionResult> {
    const parsed = parseRegistration(request, randomUUID);
    if (!parsed.ok) return fail(parsed.error, "INVALID_BODY", parsed.extra);
    const r = parsed.value;
    return this.#registering.add(() => this.#registerExclusive(r)) as Promise<ActionResult>;
  }

  /** Registrations run one at a time, so two of one unique type cannot both pass the check. */
  async #registerExclusive(
    r: Extract<ReturnType<typeof parseRegistration>, { ok: true }>["value"],
  ): Promise<ActionResult> {
    try {
      if (r.type !== null && !r.allowDuplicateType && (this.#d.enforceUniqueTypes || r.singleton)) {
        const now = this.#d.now();
        // Like CGSE, a lapsed registration (not yet swept) does not block a new one.
        const holder = this.#d.discovery
          .list()
          .find((s) => s.id !== r.id && hasType(s, r.type!) && (s.expiresAt === null || s.expiresAt >= now));
        if (holder) {
          return fail("duplicate_service_type", "DUPLICATE_SERVICE_TYPE", {
            message: `Service type '${r.type}' is already registered by service_id '${holder.id}'.`,
            service_type: r.type,
            existing_service_id: holder.id,
          });
        }
      }
      const previous = this.#find(r.id);
      const type = r.type ?? UNTYPED;
      await this.#d.discovery.register({
        type,
        id: r.id,
        endpoint: { host: r.host, port: r.port, name: r.name, tags: r.tags },
        metadata: r.metadata,
        ttlMs: r.ttlMs,
      });
      // An update in place that changes the type moves the register; the old name goes after the new one exists.
      if (previous && previous.type !== type) {
        const forget = this.#d.willDeregister(previous.name, toCgseRecord(previous, this.#d.now()));
        if (!(await this.#d.discovery.deregister(previous.type, previous.id))) forget();
      }
      return ok({ service_id: r.id, message: "Service registered successfully" });
    } catch (err) {
      return this.#failed("Failed to register service", err);
    }
  }

  async #deregister(request: JsonObject): Promise<ActionResult> {
    const id = request.service_id;
    if (!id) return fail("Missing required field: service_id", "INVALID_BODY");
    const s = this.#find(id);
    if (!s) return fail("Service not found or could not be deregistered", "SERVICE_NOT_FOUND");
    const forget = this.#d.willDeregister(s.name, toCgseRecord(s, this.#d.now()));
    try {
      if (await this.#d.discovery.deregister(s.type, s.id)) return ok({ message: "Service deregistered successfully" });
      forget();
      return fail("Service not found or could not be deregistered", "SERVICE_NOT_FOUND");
    } catch (err) {
      forget();
      return this.#failed("Service not found or could not be deregistered", err);
    }
  }

  #get(request: JsonObject): ActionResult {
    const id = request.service_id;
    if (!id) return fail("Missing required field: service_id", "INVALID_BODY");
    const s = this.#find(id);
    if (!s) return fail("Service not found", "SERVICE_NOT_FOUND");
    return ok({ service: toCgseRecord(s, this.#d.now()) });
  }

  #list(request: JsonObject): ActionResult {
    const type = request.service_type;
    return ok({ services: this.#records(typeof type === "string" && type !== "" ? type : undefined) });
  }

  #discover(request: JsonObject): ActionResult {
    const type = request.service_type;
    if (!type) return fail("Missing required field: service_type", "INVALID_BODY");
    const name = typeof type === "string" ? type : JSON.stringify(type);
    const passing = this.#records(name).filter((r) => r.health === "passing");
    const pick = passing.length > 0 ? passing[randomInt(passing.length)] : undefined;
    if (!pick) return fail(`No healthy service of type ${name} found`, "SERVICE_NOT_FOUND");
    return ok({ service: pick });
  }

  #info(): ActionResult {
    const p = this.#d.ports();
    return ok({
      status: "ok",
      req_port: p.req,
      pub_port: p.pub,
      hb_port: p.hb,
      enforce_unique_service_types: this.#d.enforceUniqueTypes,
      services: this.#records(undefined),
    });
  }

  #terminate(): ActionResult {
    if (!this.#d.allowTerminate) {
      return fail(
        "terminate is disabled: this registry is part of a Switchboard server (start it with --zmq-allow-terminate to allow it)",
        "TERMINATE_REFUSED",
      );
    }
    // Answered first, stopped after: the reply is queued before the server starts closing its sockets.
    setImmediate(this.#d.terminate);
    return ok({ status: "terminating", timestamp: this.#d.now() / 1000 });
  }

  #records(type: string | undefined): CgseRecord[] {
    const now = this.#d.now();
    const all = this.#d.discovery.list();
    return (type === undefined ? all : all.filter((s) => hasType(s, type))).map((s) => toCgseRecord(s, now));
  }

  /**
   * The service with this id, whatever its type. CGSE addresses services by id alone while
   * discovery names them by type and id, so this is a scan of services/ (fine for a registry's
   * tens to thousands of entries). Should one id exist under two types, the newest wins.
   * Plexus backends are listed and discovered but never addressed by id: a CGSE registration
   * that reuses a backend's name must not move (delete) the backend.
   */
  #find(id: Json): ServiceRecord | undefined {
    if (typeof id !== "string") return undefined;
    let best: ServiceRecord | undefined;
    for (const s of this.#d.discovery.list()) {
      if (s.id === id && !s.name.startsWith(BACKENDS_PREFIX) && (!best || s.updatedAt > best.updatedAt)) best = s;
    }
    return best;
  }

  #seconds(): number {
    return Math.floor(this.#d.now() / 1000);
  }

  #failed(error: string, err: unknown): ActionResult {
    if (isSwitchboardError(err)) return fail(`${error}: ${err.message}`, err.code, { code: err.code });
    throw err;
  }
}
