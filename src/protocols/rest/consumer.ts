// Consumer routes: GET /consumer (read or long-poll registers), PUT /consumer (request changes).

import { Hono } from "hono";
import type { RestContext } from "./context.js";
import { formatView } from "./format.js";
import { cappedList, pollSlots } from "./limits.js";
import { intParam, readBody, selectorFromQuery } from "./parse.js";
import { indexed, observeWake, pollOptions } from "./respond.js";
import { consumerPutBody } from "./schemas.js";

export function consumerRoutes(ctx: RestContext): Hono {
  const { core } = ctx;
  const app = new Hono();

  app.get("/", pollSlots(ctx.limits.maxPollsPerClient), async (c) => {
    const result = await core.consumerPoll(selectorFromQuery(c), intParam(c, "index"), pollOptions(c, ctx));
    observeWake(ctx, "consumer", result.changedAt);
    const extra = result.resync ? { resync: true } : {};
    return cappedList(c, result.index, extra, "registers", result.registers, formatView, ctx.limits.maxResponseBytes);
  });

  app.put("/", async (c) => {
    const body = await readBody(c, consumerPutBody);
    const requests = await core.request(
      body.requests.map((r) => ({
        name: r.name,
        value: r.value,
        ...(r.requester === undefined ? {} : { requester: r.requester }),
      })),
    );
    return indexed(c, core.revision, { requests: requests.map((r) => ({ id: r.id, name: r.name })) }, 202);
  });

  return app;
}
