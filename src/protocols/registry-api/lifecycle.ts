// POST /registry/create, PUT /registry/update, DELETE /registry/delete/<id>: the record life cycle of the seed.

import { Hono } from "hono";
import { z } from "zod";
import type { RegistryApiContext } from "./context.js";
import { readBody } from "./parse.js";

export function lifecycleRoutes({ registry, count }: RegistryApiContext): Hono {
  const app = new Hono();

  app.post("/create", async (c) => {
    count("create");
    const written = await registry.create(await readBody(c, z.unknown()));
    return c.json(written, 201);
  });

  app.put("/update", async (c) => {
    count("update");
    return c.json(await registry.update(await readBody(c, z.unknown())));
  });

  app.delete("/delete/:id", async (c) => {
    count("delete");
    return c.json(await registry.delete(c.req.param("id")));
  });

  return app;
}
