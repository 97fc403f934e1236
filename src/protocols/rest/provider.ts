// Provider routes: PUT /provider (set/refresh), GET /provider (poll change requests), DELETE /provider.

import { Hono } from "hono";
import { providerPoll, SwitchboardError } from "../../core/index.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { formatRequest } from "./format.js";
import { intParam, readBody, selectorFromQuery, waitParam } from "./parse.js";
import { providerPutBody } from "./schemas.js";

export function providerRoutes({ core, options, metrics }: RestContext): Hono {
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
    const index = core.revision;
    c.header(INDEX_HEADER, String(index));
    return c.json({
      index,
      registers: results.map(({ register: r, changed }) => ({
        name: r.name,
        version: r.version,
        modRevision: r.modRevision,
        changed,
        expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
      })),
    });
  });

  app.get("/", async (c) => {
    const result = await providerPoll(core, selectorFromQuery(c), intParam(c, "after"), {
      waitMs: waitParam(c, options.defaultWaitMs),
      signal: c.req.raw.signal,
      ...(options.random ? { random: options.random } : {}),
    });
    if (result.changedAt !== undefined) {
      metrics.wakeLatency.observe({ kind: "provider" }, Math.max(0, core.clock.now() - result.changedAt) / 1000);
    }
    c.header(INDEX_HEADER, String(result.index));
    return c.json({ index: result.index, requests: result.requests.map(formatRequest) });
  });

  app.delete("/", async (c) => {
    const names = c.req.queries("name") ?? [];
    if (names.length === 0) throw new SwitchboardError("NO_SELECTOR", "name the registers to delete with name=…");
    const deleted = await core.delete(names);
    c.header(INDEX_HEADER, String(core.revision));
    return c.json({ index: core.revision, deleted });
  });

  return app;
}
