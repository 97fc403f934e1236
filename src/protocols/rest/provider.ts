// Provider routes: PUT /provider (set/refresh), GET /provider (poll change requests), DELETE /provider.

import type { WriteResult } from "@switchboard/wire";
import { Hono } from "hono";
import { type PollOptions, type ProviderPollResult, type Selector, SwitchboardError } from "../../core/index.js";
import type { Principal } from "../../services/auth/index.js";
import { clientAddress, principalOf, whileAuthorized } from "../http/auth.js";
import { formatOutcome, formatRequest } from "../http/format.js";
import { deleteConditions, intParam, type Query, queryOf, readBody, selectorFromQuery } from "../http/parse.js";
import { epochParam, holdOptions, indexed, now, observeWake } from "../http/respond.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { cappedListBody, type PollSlots, pollSlots } from "./limits.js";
import { acksBody, type ProviderPutBody, providerPutBody } from "./schemas.js";

/** A validated GET /provider. */
export interface ProviderPollRequest {
  readonly selector: Selector;
  readonly after: number | undefined;
  readonly options: PollOptions;
}

/** Reads and checks a GET /provider (the hono route and the node-level one alike). */
export function providerPollRequest(ctx: RestContext, q: Query, principal: Principal): ProviderPollRequest {
  const { auth } = ctx.services;
  const selector = selectorFromQuery(q);
  // A provider acknowledges (drops) requests: it must hold provide on every name and on all of each prefix.
  auth.authorize(principal, "provide", selector.names ?? []);
  auth.authorizePrefixes(principal, "provide", selector.prefixes ?? []);
  const after = intParam(q, "after");
  return { selector, after, options: holdOptions(q, ctx) };
}

/** The JSON body of a provider poll's answer. */
export function providerAnswer(ctx: RestContext, result: ProviderPollResult): string {
  const extra = {
    epoch: result.epoch,
    ...(result.resync ? { resync: true } : {}),
    ...(result.missing.length > 0 ? { missing: result.missing } : {}),
  };
  return cappedListBody(result.index, extra, "requests", result.requests, formatRequest, ctx.limits.maxResponseBytes);
}

/** Runs a validated PUT /provider for its caller (the hono route and the node-level one alike): what each write did. */
export async function providerWrite(
  ctx: RestContext,
  principal: Principal,
  address: string,
  body: ProviderPutBody,
): Promise<WriteResult[]> {
  const { core } = ctx;
  const { auth } = ctx.services;
  auth.authorize(
    principal,
    "write",
    body.registers.map((r) => r.name),
  );
  auth.chargeWrites(principal, address, body.registers.length);
  const results = await core.set(
    body.registers.map((r) => ({
      name: r.name,
      value: r.value,
      ...(r.metadata === undefined ? {} : { metadata: r.metadata }),
      ...(r.ttl === undefined ? {} : { ttlMs: r.ttl }),
      ...(r.ifVersion === undefined ? {} : { ifVersion: r.ifVersion }),
      ...(r.ifModRevision === undefined ? {} : { ifModRevision: r.ifModRevision }),
    })),
  );
  return results.map(
    ({ register: r, changed }): WriteResult => ({
      name: r.name,
      version: r.version,
      modRevision: r.modRevision,
      changed,
      expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
    }),
  );
}

export function providerRoutes(ctx: RestContext, slots: PollSlots): Hono {
  const { core, services } = ctx;
  const { auth } = services;
  const app = new Hono();

  app.put("/", async (c) => {
    const body = await readBody(c, providerPutBody);
    const registers = await providerWrite(ctx, principalOf(c, auth), clientAddress(c), body);
    return indexed(c, now(core), { registers });
  });

  // Outcomes: a provider must hold provide on the register of every id it reports (unknown ids are skipped).
  app.put("/acks", async (c) => {
    const body = await readBody(c, acksBody);
    // Ids of another history (the server lost its data) name other requests here: apply none.
    const epoch = epochParam(c);
    if (epoch !== undefined && epoch !== core.epoch) {
      return indexed(c, now(core), { acks: body.acks.map((a) => ({ id: a.id, status: "unknown" })) });
    }
    const principal = principalOf(c, auth);
    const names = body.acks.map((a) => core.outcome(a.id)?.name).filter((n): n is string => n !== undefined);
    auth.authorize(principal, "provide", [...new Set(names)]);
    auth.chargeWrites(principal, clientAddress(c), body.acks.length);
    const outcomes = await core.report(
      body.acks.map((a) => ({
        id: a.id,
        status: a.status,
        ...(a.result === undefined ? {} : { result: a.result }),
        ...(a.message === undefined ? {} : { message: a.message }),
      })),
    );
    return indexed(c, now(core), {
      acks: body.acks.map((a, i) => {
        const o = outcomes[i];
        return o === undefined ? { id: a.id, status: "unknown" } : formatOutcome(o);
      }),
    });
  });

  app.get("/", pollSlots(slots), async (c) => {
    const principal = principalOf(c, auth);
    const request = providerPollRequest(ctx, queryOf(c), principal);
    const result = await whileAuthorized(c, auth, principal, (signal) =>
      core.providerPoll(request.selector, request.after, { ...request.options, signal }),
    );
    observeWake(ctx, "provider", result.changedAt);
    const body = providerAnswer(ctx, result);
    c.header(INDEX_HEADER, String(result.index));
    c.header("Content-Type", "application/json");
    return c.body(body, 200);
  });

  app.delete("/", async (c) => {
    const names = c.req.queries("name") ?? [];
    if (names.length === 0) throw new SwitchboardError("NO_SELECTOR", "name the registers to delete with name=…");
    const principal = principalOf(c, auth);
    auth.authorize(principal, "write", names);
    auth.chargeWrites(principal, clientAddress(c), names.length);
    const deleted = await core.delete(deleteConditions(c, names));
    return indexed(c, now(core), { deleted });
  });

  return app;
}
