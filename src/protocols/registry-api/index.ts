// The registry-of-registries REST API of the seed (/registry/...), mounted on the shared HTTP port.

import { z } from "zod";
import { isSwitchboardError } from "../../core/index.js";
import { REGISTRY_PREFIX } from "../../services/registry/index.js";
import { principalOf } from "../http/auth.js";
import { defineProtocol } from "../protocol.js";
import { recordAccess } from "./access.js";
import type { RegistryApiContext } from "./context.js";
import { lifecycleRoutes } from "./lifecycle.js";
import { registryOpenApi } from "./openapi.js";
import { queryRoutes } from "./queries.js";
import { uploadRoutes } from "./upload.js";

const PROTOCOL = "registry-api";

export const registryApiProtocol = defineProtocol({
  name: PROTOCOL,
  options: z.object({}),
  create({ core, services, metrics, http }) {
    const { auth } = services;
    const ctx: RegistryApiContext = {
      core,
      registry: services.registry,
      uploads: services.uploads,
      count: (op) => metrics.operations.labels(PROTOCOL, op).inc(),
      access: (c) => recordAccess(auth, c),
    };
    http.label("/registry/*");
    // ACL per record (the register registries/<id>): queries answer only the records the caller may read,
    // by-id and writes are checked on the record they name (POST /registry/health/:id is the discovery module's).
    http.app.use("/registry/*", async (c, next) => {
      if (!c.req.path.startsWith("/registry/health/")) {
        const principal = principalOf(c, auth);
        auth.requireSignedIn(principal);
        // An upload's record id is inside the form: the caller must at least write some record before sending it.
        if (c.req.path.startsWith("/registry/upload")) auth.authorizeUnder(principal, "write", REGISTRY_PREFIX);
      }
      await next();
      if (isSwitchboardError(c.error)) metrics.errors.labels(PROTOCOL, c.error.code).inc();
    });
    http.app.route("/registry", lifecycleRoutes(ctx));
    http.app.route("/registry", queryRoutes(ctx));
    http.app.route("/registry", uploadRoutes(ctx));
    http.describe(registryOpenApi);
    // The zip streams to a temp file, so its route may carry more than --max-body-bytes.
    http.bodyLimit("/registry/upload_zip", services.uploads.options.maxZipBytes + 1024 * 1024);
    return {
      start: async () => [],
      stop: async () => undefined,
    };
  },
});
