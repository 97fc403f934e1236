// The registry-of-registries REST API of the seed (/registry/...), mounted on the shared HTTP port.

import { z } from "zod";
import { isSwitchboardError } from "../../core/index.js";
import { REGISTRY_PREFIX } from "../../services/registry/index.js";
import { principalOf } from "../http/auth.js";
import { defineProtocol } from "../protocol.js";
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
    const ctx: RegistryApiContext = {
      core,
      registry: services.registry,
      uploads: services.uploads,
      count: (op) => metrics.operations.labels(PROTOCOL, op).inc(),
    };
    http.label("/registry/*");
    // ACL: reading records needs read on all of registries/, changing them write on all of it (records are
    // found by content, so a per-record check could not say in advance which names a query touches).
    const { auth } = services;
    http.app.use("/registry/*", async (c, next) => {
      const principal = principalOf(c, auth);
      const writes =
        c.req.method !== "GET" && !c.req.path.startsWith("/registry/query") && c.req.path !== "/registry/search";
      auth.authorizePrefixes(principal, writes ? "write" : "read", [REGISTRY_PREFIX]);
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
