// The registry-of-registries REST API of the seed (/registry/...), mounted on the shared HTTP port.

import { z } from "zod";
import { isSwitchboardError } from "../../core/index.js";
import { defineProtocol } from "../protocol.js";
import type { RegistryApiContext } from "./context.js";
import { lifecycleRoutes } from "./lifecycle.js";
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
    http.app.use("/registry/*", async (c, next) => {
      await next();
      if (isSwitchboardError(c.error)) metrics.errors.labels(PROTOCOL, c.error.code).inc();
    });
    http.app.route("/registry", lifecycleRoutes(ctx));
    http.app.route("/registry", queryRoutes(ctx));
    http.app.route("/registry", uploadRoutes(ctx));
    // The zip streams to a temp file, so its route may carry more than --max-body-bytes.
    http.bodyLimit("/registry/upload_zip", services.uploads.options.maxZipBytes + 1024 * 1024);
    return {
      start: async () => [],
      stop: async () => undefined,
    };
  },
});
