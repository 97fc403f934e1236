// Discovery over HTTP: register, heartbeat, deregister, discover (long-pollable), check now.

import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import { type JsonObject, SwitchboardError } from "../../core/index.js";
import type { ServiceEndpoint } from "../../services/discovery.js";
import type { ServiceFilter } from "../../services/index.js";
import { matchesFilter, serviceName, servicePrefixes, toService } from "../../services/index.js";
import { registryName } from "../../services/registry/record.js";
import { principalOf, whileAuthorized } from "../http/auth.js";
import { intParam, readBody, waitParam } from "../http/parse.js";
import { indexed, now } from "../http/respond.js";
import type { ProtocolContext } from "../protocol.js";
import { formatHealth, formatService } from "./format.js";
import { heartbeatBody, registerBody } from "./schemas.js";

function filterFromQuery(c: Context): ServiceFilter {
  const healthy = c.req.queries("healthy");
  if (healthy && (healthy.length > 1 || !["true", "false", "1", "0"].includes(healthy[0]!))) {
    throw new SwitchboardError("INVALID_QUERY", "healthy must be one of true, false, 1, 0", { details: { healthy } });
  }
  return { healthy: healthy?.[0] === "true" || healthy?.[0] === "1", tags: c.req.queries("tag") ?? [] };
}

/** An optional JSON body: empty means `{}`. */
async function optionalBody<T>(c: Context, parse: (c: Context) => Promise<T>, empty: T): Promise<T> {
  const length = c.req.header("content-length");
  if (length === "0" || (length === undefined && !c.req.header("transfer-encoding"))) return empty;
  return parse(c);
}

export function discoveryRoutes(ctx: ProtocolContext): Hono {
  const { core, services, metrics, settings } = ctx;
  const { discovery, health, auth } = services;
  const who = (c: Context) => principalOf(c, auth);
  /** Anonymous callers of a server with auth on are refused before anything else. */
  const signedIn = (c: Context) => {
    const p = who(c);
    auth.requireSignedIn(p);
    return p;
  };
  const op = (name: string) => metrics.operations.labels("discovery", name).inc();
  const app = new Hono();

  app.post("/services", async (c) => {
    const body = await readBody(c, registerBody);
    const { type, id, ttl, metadata, ...endpoint } = body;
    const serviceId = id ?? randomUUID();
    auth.authorize(who(c), "write", [serviceName(type, serviceId)]);
    const s = await discovery.register({
      type,
      id: serviceId,
      // zod leaves absent optionals undefined; the service keeps only fields that are present.
      endpoint: endpoint as ServiceEndpoint,
      ...(metadata ? { metadata: metadata as JsonObject } : {}),
      ttlMs: ttl ?? null,
    });
    op("register");
    return indexed(c, now(core), { service: formatService(s) }, 201);
  });

  app.get("/services", (c) => {
    const filter = filterFromQuery(c);
    const principal = signedIn(c);
    op("list");
    const all = discovery.list().filter((s) => matchesFilter(s, filter) && auth.may(principal, "read", s.name));
    return indexed(c, now(core), { services: all.map(formatService) });
  });

  // Long-pollable like /consumer: index + wait hold until a service of this type changes (health included).
  app.get("/services/:type", async (c) => {
    const prefixes = servicePrefixes(c.req.param("type"));
    const filter = filterFromQuery(c);
    const principal = signedIn(c);
    const result = await whileAuthorized(c, auth, principal, (signal) =>
      core.consumerPoll({ prefixes }, intParam(c, "index"), {
        waitMs: waitParam(c, settings.defaultWaitMs),
        signal,
      }),
    );
    op("discover");
    const found = [];
    for (const view of result.registers) {
      const s = view.found && auth.may(principal, "read", view.name) ? toService(view.register) : null;
      if (s && matchesFilter(s, filter)) found.push(formatService(s));
    }
    // Several prefixes (plexus: backends/ too) are read one after the other: answer in name order.
    if (prefixes.length > 1) found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return indexed(c, result, { ...(result.resync ? { resync: true } : {}), services: found });
  });

  app.get("/services/:type/:id", (c) => {
    const { type, id } = c.req.param();
    auth.authorize(who(c), "read", [discovery.registerOf(type, id)]);
    const s = discovery.get(type, id);
    if (!s) throw notRegistered(type, id);
    op("get");
    return indexed(c, now(core), { service: formatService(s) });
  });

  app.put("/services/:type/:id/heartbeat", async (c) => {
    const { type, id } = c.req.param();
    auth.authorize(who(c), "write", [discovery.registerOf(type, id)]);
    const body = await optionalBody(c, (cc) => readBody(cc, heartbeatBody), {});
    const s = await discovery.heartbeat(type, id, body.ttl);
    op("heartbeat");
    return indexed(c, now(core), { service: formatService(s) });
  });

  app.delete("/services/:type/:id", async (c) => {
    const { type, id } = c.req.param();
    const name = discovery.registerOf(type, id);
    auth.authorize(who(c), "write", [name]);
    if (!(await discovery.deregister(type, id))) throw notRegistered(type, id);
    op("deregister");
    return indexed(c, now(core), { deregistered: name });
  });

  app.post("/services/:type/:id/check", async (c) => {
    const { type, id } = c.req.param();
    // A check probes now and publishes the verdict into the register's metadata: a write.
    auth.authorize(who(c), "write", [serviceName(type, id)]);
    const result = await health.check(serviceName(type, id));
    if (!result) throw notRegistered(type, id);
    op("check");
    return c.json({ name: serviceName(type, id), health: formatHealth(result) });
  });

  app.post("/registry/health/:id", async (c) => {
    const id = c.req.param("id");
    auth.authorize(who(c), "write", [registryName(id)]);
    const result = await health.check(registryName(id));
    if (!result) throw new SwitchboardError("REGISTRY_NOT_FOUND", `registry ${id} does not exist`, { details: { id } });
    op("check");
    return c.json({ registry_id: id, health: formatHealth(result) });
  });

  return app;
}

function notRegistered(type: string, id: string): SwitchboardError {
  return new SwitchboardError("SERVICE_NOT_FOUND", `service ${type}/${id} is not registered`, {
    details: { type, id },
  });
}
