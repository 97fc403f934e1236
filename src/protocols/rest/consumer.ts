// Consumer routes: GET /consumer (read or long-poll registers), PUT /consumer (request changes).

import { Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";
import { clientAddress, principalOf, whileAuthorized } from "../http/auth.js";
import { formatOutcome, formatPending, formatView } from "../http/format.js";
import { flagParam, intParam, readBody, selectorFromQuery, singleQuery, waitParam } from "../http/parse.js";
import { indexed, now, observeWake, pollOptions } from "../http/respond.js";
import type { RestContext } from "./context.js";
import { cappedList, pollSlots } from "./limits.js";
import { consumerPutBody } from "./schemas.js";

export function consumerRoutes(ctx: RestContext): Hono {
  const { core, services } = ctx;
  const { auth } = services;
  const app = new Hono();

  app.get("/", pollSlots(ctx.limits.maxPollsPerClient), async (c) => {
    const selector = selectorFromQuery(c);
    const principal = principalOf(c, auth);
    const names = new Set(selector.names ?? []);
    auth.authorize(principal, "read", [...names]);
    auth.requireSignedIn(principal);
    const pending = flagParam(c, "pending");
    const whereText = singleQuery(c, "where");
    const where = whereText === undefined ? undefined : services.filters.parse(whereText);
    const result = await whileAuthorized(c, auth, principal, (signal) =>
      core.consumerPoll(selector, intParam(c, "index"), { ...pollOptions(c, ctx, signal), pending, where }),
    );
    observeWake(ctx, "consumer", result.changedAt);
    // Prefix matches the caller may not read are left out: no found:false hint that they exist.
    const visible = result.registers.filter((v) => names.has(v.name) || auth.may(principal, "read", v.name));
    const extra = { epoch: result.epoch, ...(result.resync ? { resync: true } : {}) };
    const format = (v: (typeof visible)[number]) => {
      const queue = result.pending?.get(v.name);
      return queue === undefined ? formatView(v) : { ...formatView(v), pending: queue.map(formatPending) };
    };
    return cappedList(c, result.index, extra, "registers", visible, format, ctx.limits.maxResponseBytes);
  });

  // A request's outcome; with wait=, held until it is final. Whoever may read the register may see it.
  app.get("/requests/:id", async (c) => {
    const raw = c.req.param("id");
    if (!/^\d{1,15}$/.test(raw))
      throw new SwitchboardError("INVALID_INDEX", "the request id must be a positive integer");
    const id = Number(raw);
    const principal = principalOf(c, auth);
    const known = core.outcome(id);
    // Unknown and unreadable look alike to a caller without read on the register.
    if (!known || !auth.may(principal, "read", known.name)) {
      if (known) auth.authorize(principal, "read", [known.name]);
      throw new SwitchboardError("REQUEST_NOT_FOUND", `no change request ${id} (or its outcome is no longer kept)`, {
        details: { id },
      });
    }
    const waitMs = waitParam(c, 0);
    if (waitMs > core.limits.maxWaitMs) {
      throw new SwitchboardError("WAIT_TOO_LONG", `wait may be at most ${core.limits.maxWaitMs} ms`);
    }
    const outcome = await whileAuthorized(c, auth, principal, (signal) => core.waitOutcome(id, waitMs, signal));
    return indexed(c, now(core), formatOutcome(outcome ?? known));
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
        ...(r.requestKey === undefined ? {} : { requestKey: r.requestKey }),
        ...(r.ifVersion === undefined ? {} : { ifVersion: r.ifVersion }),
        ...(r.ifModRevision === undefined ? {} : { ifModRevision: r.ifModRevision }),
      })),
    );
    return indexed(c, now(core), { requests: requests.map((r) => ({ id: r.id, name: r.name })) }, 202);
  });

  return app;
}
