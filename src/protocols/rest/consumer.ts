// Consumer routes: GET /consumer (read or long-poll registers), PUT /consumer (request changes).

import { Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";
import { clientAddress, principalOf, requestSignal } from "../http/auth.js";
import type { RestContext } from "./context.js";
import { formatPending, formatView } from "./format.js";
import { flagParam, intParam, readBody, selectorFromQuery } from "./parse.js";
import { indexed, now, observeWake, pollOptions } from "./respond.js";
import { consumerPutBody } from "./schemas.js";

export function consumerRoutes(ctx: RestContext): Hono {
  const { core, services } = ctx;
  const { auth } = services;
  const app = new Hono();

  app.get("/", async (c) => {
    const selector = selectorFromQuery(c);
    const principal = principalOf(c, auth);
    const names = new Set(selector.names ?? []);
    auth.authorize(principal, "read", [...names]);
    if (principal.kind === "anonymous" && auth.enabled) auth.authorize(principal, "read");
    const pending = flagParam(c, "pending");
    const held = requestSignal(c, auth, principal);
    let result: Awaited<ReturnType<typeof core.consumerPoll>>;
    try {
      result = await core.consumerPoll(selector, intParam(c, "index"), {
        ...pollOptions(c, ctx, held.signal),
        pending,
      });
    } finally {
      held.release();
    }
    if (held.revoked()) throw new SwitchboardError("UNAUTHENTICATED", "the token was revoked");
    observeWake(ctx, "consumer", result.changedAt);
    // Prefix matches the caller may not read are left out: no found:false hint that they exist.
    const visible = result.registers.filter((v) => names.has(v.name) || auth.may(principal, "read", v.name));
    return indexed(c, result, {
      ...(result.resync ? { resync: true } : {}),
      registers: visible.map((v) => {
        const queue = result.pending?.get(v.name);
        return queue === undefined ? formatView(v) : { ...formatView(v), pending: queue.map(formatPending) };
      }),
    });
  });

  app.put("/", async (c) => {
    const body = await readBody(c, consumerPutBody);
    const principal = principalOf(c, auth);
    auth.authorize(
      principal,
      "request",
      body.requests.map((r) => r.name),
    );
    auth.chargeWrites(principal, clientAddress(c), body.requests.length);
    const requests = await core.request(
      body.requests.map((r) => ({
        name: r.name,
        value: r.value,
        ...(r.requester === undefined ? {} : { requester: r.requester }),
        ...(r.expiresIn === undefined ? {} : { expiresInMs: r.expiresIn }),
        ...(r.ifVersion === undefined ? {} : { ifVersion: r.ifVersion }),
        ...(r.ifModRevision === undefined ? {} : { ifModRevision: r.ifModRevision }),
      })),
    );
    return indexed(c, now(core), { requests: requests.map((r) => ({ id: r.id, name: r.name })) }, 202);
  });

  return app;
}
