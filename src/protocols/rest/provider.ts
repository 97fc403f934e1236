// Provider routes: PUT /provider (set/refresh), GET /provider (poll change requests), DELETE /provider.

import { Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";
import type { RestContext } from "./context.js";
import { formatRequest } from "./format.js";
import { cappedList, pollSlots } from "./limits.js";
import { intParam, readBody, selectorFromQuery } from "./parse.js";
import { indexed, observeWake, pollOptions } from "./respond.js";
import { providerPutBody } from "./schemas.js";

export function providerRoutes(ctx: RestContext): Hono {
  const { core } = ctx;
  const app = new Hono();

  app.put("/", async (c) => {
    const body = await readBody(c, providerPutBody);
    const results = await core.set(
      body.registers.map((r) => ({
        name: r.name,
        value: r.value,
        ...(r.metadata === undefined ? {} : { metadata: r.metadata }),
        ...(r.ttl === undefined ? {} : { ttlMs: r.ttl }),
      })),
    );
    return indexed(c, core.revision, {
      registers: results.map(({ register: r, changed }) => ({
        name: r.name,
        version: r.version,
        modRevision: r.modRevision,
        changed,
        expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
      })),
    });
  });

  app.get("/", pollSlots(ctx.limits.maxPollsPerClient), async (c) => {
    const result = await core.providerPoll(selectorFromQuery(c), intParam(c, "after"), pollOptions(c, ctx));
    observeWake(ctx, "provider", result.changedAt);
    return cappedList(c, result.index, {}, "requests", result.requests, formatRequest, ctx.limits.maxResponseBytes);
  });

  app.delete("/", async (c) => {
    const names = c.req.queries("name") ?? [];
    if (names.length === 0) throw new SwitchboardError("NO_SELECTOR", "name the registers to delete with name=…");
    const deleted = await core.delete(names);
    return indexed(c, core.revision, { deleted });
  });

  return app;
}
