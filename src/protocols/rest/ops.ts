// Operational routes: /healthz (alive), /readyz (loaded and storage healthy), /status (what runs where), /metrics, /openapi.json.

import { type Context, Hono } from "hono";
import { principalOf } from "../http/auth.js";
import { openApiDocument } from "../http/openapi.js";
import type { RestContext } from "./context.js";

export function opsRoutes({
  core,
  services,
  metrics,
  listeners,
  version,
  startedAt,
  options,
  http,
}: RestContext): Hono {
  const app = new Hono();
  // Built at the first request, when every module has described its routes.
  let document: Record<string, unknown> | undefined;
  const { auth } = services;
  // Operational detail (listeners, sizes, the API) is for operators unless --public-metrics opens it.
  const guard = (c: Context, action: "metrics" | "status") => {
    if (!options.publicMetrics) auth.authorize(principalOf(c, auth), action);
  };

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", (c) => {
    const s = services.readiness.assertReady();
    return c.json({
      status: "ready",
      revision: core.revision,
      epoch: core.epoch,
      storage: s.storage,
      healthCache: s.healthCache,
    });
  });

  app.get("/status", (c) => {
    guard(c, "status");
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
      healthCache: ready.healthCache,
      ...(core.persistence.cluster ? { cluster: core.persistence.cluster() } : {}),
      listeners: listeners(),
    });
  });

  app.get("/metrics", async (c) => {
    guard(c, "metrics");
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { "Content-Type": metrics.registry.contentType });
  });

  app.get("/openapi.json", (c) => {
    guard(c, "status");
    document ??= openApiDocument(http.described(), version);
    return c.json(document);
  });

  return app;
}
