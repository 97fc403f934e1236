// Consumer routes: GET /consumer (read or long-poll registers), PUT /consumer (request changes).

import { Hono } from "hono";
import { type ConsumerPollResult, type PollOptions, type Selector, SwitchboardError } from "../../core/index.js";
import type { Principal } from "../../services/auth/index.js";
import { clientAddress, principalOf, whileAuthorized } from "../http/auth.js";
import { formatOutcome, formatPending, formatView } from "../http/format.js";
import {
  changesParam,
  flagParam,
  intParam,
  type Query,
  queryOf,
  readBody,
  selectorFromQuery,
  singleQuery,
  waitParam,
} from "../http/parse.js";
import { holdOptions, indexed, now, observeWake } from "../http/respond.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { cappedListBody, type PollSlots, pollSlots } from "./limits.js";
import { consumerPutBody } from "./schemas.js";

/** A validated GET /consumer. */
export interface ConsumerPollRequest {
  readonly selector: Selector;
  readonly principal: Principal;
  readonly index: number | undefined;
  readonly options: PollOptions;
}

/** Reads and checks a GET /consumer (the hono route and the node-level one alike), in the order the errors are reported. */
export function consumerPollRequest(ctx: RestContext, q: Query, principal: Principal): ConsumerPollRequest {
  const { auth } = ctx.services;
  const selector = selectorFromQuery(q);
  auth.authorize(principal, "read", selector.names ?? []);
  auth.requireSignedIn(principal);
  const pending = flagParam(q, "pending");
  const index = intParam(q, "index");
  const options = holdOptions(q, ctx);
  const changesOnly = changesParam(q);
  const whereText = singleQuery(q, "where");
  const where = whereText === undefined ? undefined : ctx.services.filters.parse(whereText);
  return {
    selector,
    principal,
    index,
    options: { ...options, pending, ...(changesOnly ? { changesOnly } : {}), ...(where ? { where } : {}) },
  };
}

/** The JSON body of a consumer poll's answer (RESPONSE_TOO_LARGE past the cap); records the wake latency. */
export function consumerAnswer(ctx: RestContext, request: ConsumerPollRequest, result: ConsumerPollResult): string {
  const { auth } = ctx.services;
  const names = new Set(request.selector.names ?? []);
  // Prefix matches the caller may not read are left out: no found:false hint that they exist.
  const visible = result.registers.filter((v) => names.has(v.name) || auth.may(request.principal, "read", v.name));
  const extra = { epoch: result.epoch, ...(result.resync ? { resync: true } : {}) };
  const format = (v: (typeof visible)[number]) => {
    const queue = result.pending?.get(v.name);
    return queue === undefined ? formatView(v) : { ...formatView(v), pending: queue.map(formatPending) };
  };
  return cappedListBody(result.index, extra, "registers", visible, format, ctx.limits.maxResponseBytes);
}

export function consumerRoutes(ctx: RestContext, slots: PollSlots): Hono {
  const { core, services } = ctx;
  const { auth } = services;
  const app = new Hono();

  app.get("/", pollSlots(slots), async (c) => {
    const principal = principalOf(c, auth);
    const request = consumerPollRequest(ctx, queryOf(c), principal);
    const result = await whileAuthorized(c, auth, principal, (signal) =>
      core.consumerPoll(request.selector, request.index, { ...request.options, signal }),
    );
    observeWake(ctx, "consumer", result.changedAt);
    const body = consumerAnswer(ctx, request, result);
    c.header(INDEX_HEADER, String(result.index));
    c.header("Content-Type", "application/json");
    return c.body(body, 200);
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
