// POST /registry/create, PUT /registry/update, DELETE /registry/delete/<id>: the record life cycle of the seed.

import { Hono } from "hono";
import { z } from "zod";
import { type RecordAccess, registryIdIn } from "./access.js";
import type { RegistryApiContext } from "./context.js";
import { readBody } from "./parse.js";

export function lifecycleRoutes({ registry, count, access }: RegistryApiContext): Hono {
  const app = new Hono();

  app.post("/create", async (c) => {
    count("create");
    const body = await readBody(c, z.unknown());
    checkWrite(access(c), body);
    const written = await registry.create(body);
    return c.json(written, 201);
  });

  app.put("/update", async (c) => {
    count("update");
    const body = await readBody(c, z.unknown());
    checkWrite(access(c), body);
    return c.json(await registry.update(body));
  });

  app.delete("/delete/:id", async (c) => {
    count("delete");
    access(c).authorize("write", c.req.param("id"));
    return c.json(await registry.delete(c.req.param("id")));
  });

  return app;
}

/** A write needs write on the record its body names; a body naming none is refused by the service as invalid. */
function checkWrite(access: RecordAccess, body: unknown): void {
  const id = registryIdIn(body);
  if (id === null) access.authorizeSomeWrite();
  else access.authorize("write", id);
}
