// Operational routes: /healthz (alive), /readyz (loaded and storage healthy), /status (what runs where), /metrics, /openapi.json.

import { Hono } from "hono";
import type { RestContext } from "./context.js";
import { openApiDocument } from "./openapi.js";

export function opsRoutes({ core, services, metrics, listeners, version, startedAt }: RestContext): Hono {
  const app = new Hono();

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", (c) => {
    const s = services.readiness.assertReady();
    return c.json({ status: "ready", revision: core.revision, epoch: core.epoch, storage: s.storage });
  });

  app.get("/status", (c) => {
    const ready = services.readiness.status();
    const stats = core.stats();
    return c.json({
      status: ready.ready ? "ready" : "not_ready",
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      revision: core.revision,
      epoch: core.epoch,
      registers: stats.registers,
      queuedRequests: stats.queuedRequests,
      waiters: stats.waiters,
      storage: { name: ready.storage, healthy: ready.storageHealthy },
      listeners: listeners(),
    });
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { "Content-Type": metrics.registry.contentType });
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument));

  return app;
}
