// The discovery protocol: /services routes and /registry/health on the shared HTTP port, and the health metrics.

import client from "prom-client";
import { z } from "zod";
import { defineProtocol } from "../protocol.js";
import { discoveryOpenApi } from "./openapi.js";
import { discoveryRoutes } from "./routes.js";

export const discoveryApiProtocol = defineProtocol({
  name: "discovery-api",
  options: z.object({}),
  create(ctx) {
    const { http, metrics, services } = ctx;
    // Labels name first segments only; /registry/* is shared with the registry routes (a set, so no clash).
    http.label("/services", "/services/*", "/registry/*");
    http.app.route("/", discoveryRoutes(ctx));
    http.describe(discoveryOpenApi);
    // Read at scrape time from the checker's counters (services know nothing of Prometheus):
    // each scrape adds what the checker counted since the previous one.
    const seen = { probes: { passing: 0, warning: 0, critical: 0 }, cacheErrors: 0 };
    new client.Counter({
      name: "switchboard_health_probes_total",
      help: "Live health probes run, by verdict.",
      labelNames: ["status"] as const,
      registers: [metrics.registry],
      collect() {
        const now = services.health.stats().probes;
        for (const status of ["passing", "warning", "critical"] as const) {
          this.inc({ status }, now[status] - seen.probes[status]);
          seen.probes[status] = now[status];
        }
      },
    });
    new client.Counter({
      name: "switchboard_health_cache_errors_total",
      help: "Health cache reads or writes that failed (a live probe stood in for each).",
      registers: [metrics.registry],
      collect() {
        const now = services.health.stats().cacheErrors;
        this.inc(now - seen.cacheErrors);
        seen.cacheErrors = now;
      },
    });
    new client.Gauge({
      name: "switchboard_health_cache_up",
      help: "1 while the health cache backend answers, 0 while checks fall back to live probes.",
      registers: [metrics.registry],
      collect() {
        this.set(services.health.cacheState().reachable ? 1 : 0);
      },
    });
    return { start: async () => [], stop: async () => undefined };
  },
});
