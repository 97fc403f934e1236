// ACL management (admin only): /acl/tokens and /acl/policies.

import { Hono } from "hono";
import { z } from "zod";
import { SwitchboardError } from "../../core/index.js";
import { principalOf } from "../http/auth.js";
import { readBody } from "../http/parse.js";
import type { RestContext } from "./context.js";

export const tokenBody = z
  .object({
    policies: z.array(z.string().min(1).max(64)).min(1).max(100),
    description: z.string().max(1000).optional(),
  })
  .strict();

export function aclRoutes({ services }: RestContext): Hono {
  const { auth } = services;
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (!auth.enabled) throw new SwitchboardError("ROUTE_NOT_FOUND", "auth is off on this server (--auth)");
    auth.authorize(principalOf(c, auth), "admin");
    return next();
  });

  app.get("/tokens", (c) => c.json({ tokens: auth.listTokens() }));
  app.post("/tokens", async (c) => {
    const body = await readBody(c, tokenBody);
    const { token, record } = await auth.createToken({
      policies: body.policies,
      ...(body.description === undefined ? {} : { description: body.description }),
    });
    // The secret is shown here once and stored only as a hash.
    return c.json({ token, ...record }, 201);
  });
  app.delete("/tokens/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await auth.revokeToken(id))) throw new SwitchboardError("TOKEN_NOT_FOUND", `no token with id ${id}`);
    return c.json({ revoked: id });
  });

  app.get("/policies", (c) => c.json({ policies: auth.listPolicies() }));
  app.put("/policies/:name", async (c) => {
    const body = (await readBody(c, z.record(z.string(), z.unknown()))) as Record<string, unknown>;
    const policy = await auth.putPolicy({ ...body, name: c.req.param("name") });
    return c.json(policy);
  });
  app.delete("/policies/:name", async (c) => {
    const name = c.req.param("name");
    if (!(await auth.deletePolicy(name))) throw new SwitchboardError("POLICY_NOT_FOUND", `no policy named ${name}`);
    return c.json({ deleted: name });
  });
  return app;
}
