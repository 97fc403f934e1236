// Consumer routes: GET /consumer (read or long-poll registers), PUT /consumer (request changes).

import { Hono } from "hono";
import { consumerPoll } from "../../core/index.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { formatView } from "./format.js";
import { intParam, readBody, selectorFromQuery, waitParam } from "./parse.js";
import { consumerPutBody } from "./schemas.js";

export function consumerRoutes({ core, options, metrics }: RestContext): Hono {
  const app = new Hono();

  app.get("/", async (c) => {
    const index = intParam(c, "index");
    const result = await consumerPoll(core, selectorFromQuery(c), index, {
      waitMs: index === undefined || (index === 0 && core.revision > 0) ? 0 : waitParam(c, options.defaultWaitMs),
      signal: c.req.raw.signal,
      ...(options.random ? { random: options.random } : {}),
    });
    if (result.changedAt !== undefined) {
      metrics.wakeLatency.observe({ kind: "consumer" }, Math.max(0, core.clock.now() - result.changedAt) / 1000);
    }
    c.header(INDEX_HEADER, String(result.index));
    return c.json({
      index: result.index,
      ...(result.resync ? { resync: true } : {}),
      registers: result.registers.map(formatView),
    });
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
    c.header(INDEX_HEADER, String(core.revision));
    return c.json({ index: core.revision, requests: requests.map((r) => ({ id: r.id, name: r.name })) }, 202);
  });

  return app;
}
