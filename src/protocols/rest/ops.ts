// Operational routes: /healthz (alive), /readyz (loaded and storage healthy), /metrics (Prometheus), /openapi.json.

import { Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";
import type { RestContext } from "./context.js";
import { openApiDocument } from "./openapi.js";

export function opsRoutes({ core, options, metrics }: RestContext): Hono {
  const app = new Hono();

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", (c) => {
    if (!options.isReady() || core.closing) {
      throw new SwitchboardError("NOT_READY", "the server is starting or stopping");
    }
    if (core.persistence.isHealthy && !core.persistence.isHealthy()) {
      throw new SwitchboardError("STORAGE_UNAVAILABLE", `the ${core.persistence.name} store is not accepting writes`);
    }
    return c.json({ status: "ready", revision: core.revision, storage: core.persistence.name });
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { "Content-Type": metrics.registry.contentType });
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument));

  return app;
}
