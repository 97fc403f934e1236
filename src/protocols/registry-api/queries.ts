// The seed's query routes: by id, type, tags, URL fragment, partial field match, Mongo-style filter, and the search DSL.

import { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../core/index.js";
import { DEFAULT_LIMIT, MAX_LIMIT, type RegistryAnswer } from "../../services/registry/index.js";
import type { RegistryApiContext } from "./context.js";
import { intQuery, oneQuery, readBody } from "./parse.js";

export const tagsBody = z.object({ tags: z.array(z.string().max(256)).min(1).max(256) });
export const partialBody = z.object({ field: z.string().min(1).max(300), fragment: z.string().max(1024) });
export const filterBody = z.object({
  filter: z.unknown().default({}),
  limit: z.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  skip: z.number().int().min(0).max(1_000_000).optional(),
  sort: z
    .record(z.string().min(1).max(300), z.union([z.literal(1), z.literal(-1)]))
    .refine((s) => Object.keys(s).length <= 8, { message: "at most 8 sort keys" })
    .optional(),
});

export function queryRoutes({ registry, count, access }: RegistryApiContext): Hono {
  const app = new Hono();

  app.get("/query/by-id/:id", (c) => {
    count("by-id");
    access(c).authorize("read", c.req.param("id"));
    return c.json(registry.byId(c.req.param("id")));
  });

  app.get("/query/by-type/:type", (c) => {
    count("by-type");
    const { visible } = access(c);
    if (visible) return c.json(filtered(registry.byType(c.req.param("type")), visible));
    return c.body(registry.byTypeJson(c.req.param("type")), 200, { "Content-Type": "application/json" });
  });

  app.post("/query/by-tags", async (c) => {
    count("by-tags");
    const { tags } = await readBody(c, tagsBody);
    const { visible } = access(c);
    if (visible) return c.json(filtered(registry.byTags(tags), visible));
    return c.body(registry.byTagsJson(tags), 200, { "Content-Type": "application/json" });
  });

  app.get("/query/by-url", (c) => {
    count("by-url");
    const fragment = oneQuery(c, "fragment", true);
    return c.json(filtered(registry.byUrl(fragment), access(c).visible));
  });

  app.post("/query/partial", async (c) => {
    count("partial");
    const { field, fragment } = await readBody(c, partialBody);
    return c.json(filtered(registry.partial(field, fragment), access(c).visible));
  });

  app.post("/query", async (c) => {
    count("query");
    const body = await readBody(c, filterBody);
    return c.json(
      registry.query(
        {
          filter: body.filter as never,
          limit: body.limit,
          ...(body.skip === undefined ? {} : { skip: body.skip }),
          ...(body.sort === undefined ? {} : { sort: body.sort }),
        },
        access(c).visible ?? undefined,
      ),
    );
  });

  app.get("/search", (c) => {
    count("search");
    const q = oneQuery(c, "q", true);
    const limit = intQuery(c, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    return c.json(registry.search(q, limit, access(c).visible ?? undefined));
  });

  return app;
}

/** The answer without the records the caller may not read (no hint that they exist). */
function filtered(answer: RegistryAnswer, visible: ((doc: JsonObject) => boolean) | null): RegistryAnswer {
  return visible ? { ...answer, registries: answer.registries.filter(visible) } : answer;
}
