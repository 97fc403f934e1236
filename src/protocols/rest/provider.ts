// Provider routes: PUT /provider (set/refresh), GET /provider (poll change requests), DELETE /provider.

import type { WriteResult } from "@switchboard/wire";
import { Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";
import { clientAddress, principalOf, whileAuthorized } from "../http/auth.js";
import { formatOutcome, formatRequest } from "../http/format.js";
import { deleteConditions, intParam, readBody, selectorFromQuery } from "../http/parse.js";
import { epochParam, indexed, now, observeWake, pollOptions } from "../http/respond.js";
import type { RestContext } from "./context.js";
import { cappedList, pollSlots } from "./limits.js";
import { acksBody, providerPutBody } from "./schemas.js";

export function providerRoutes(ctx: RestContext): Hono {
  const { core, services } = ctx;
  const { auth } = services;
  const app = new Hono();

  app.put("/", async (c) => {
    const body = await readBody(c, providerPutBody);
    const principal = principalOf(c, auth);
    auth.authorize(
      principal,
      "write",
      body.registers.map((r) => r.name),
    );
    auth.chargeWrites(principal, clientAddress(c), body.registers.length);
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
    return indexed(c, now(core), {
      registers: results.map(
        ({ register: r, changed }): WriteResult => ({
          name: r.name,
          version: r.version,
          modRevision: r.modRevision,
          changed,
          expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
        }),
      ),
    });
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

  app.get("/", pollSlots(ctx.limits.maxPollsPerClient), async (c) => {
    const selector = selectorFromQuery(c);
    const principal = principalOf(c, auth);
    // A provider acknowledges (drops) requests: it must hold provide on every name and on all of each prefix.
    auth.authorize(principal, "provide", selector.names ?? []);
    auth.authorizePrefixes(principal, "provide", selector.prefixes ?? []);
    const result = await whileAuthorized(c, auth, principal, (signal) =>
      core.providerPoll(selector, intParam(c, "after"), pollOptions(c, ctx, signal)),
    );
    observeWake(ctx, "provider", result.changedAt);
    const extra = {
      epoch: result.epoch,
      ...(result.resync ? { resync: true } : {}),
      ...(result.missing.length > 0 ? { missing: result.missing } : {}),
    };
    return cappedList(c, result.index, extra, "requests", result.requests, formatRequest, ctx.limits.maxResponseBytes);
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
