// The discovery protocol: /services routes and /registry/health on the shared HTTP port, and the health metrics.

import client from "prom-client";
import { z } from "zod";
import { defineProtocol } from "../protocol.js";
import { discoveryRoutes } from "./routes.js";

export const discoveryApiProtocol = defineProtocol({
  name: "discovery-api",
  options: z.object({}),
  create(ctx) {
    const { http, metrics, services } = ctx;
    http.label("/services", "/services/*", "/registry/health/*");
    http.app.route("/", discoveryRoutes(ctx));
    // Read at scrape time from the checker's counters (services know nothing of Prometheus).
    new client.Gauge({
      name: "switchboard_health_probes",
      help: "Live health probes run since start, by verdict.",
      labelNames: ["status"] as const,
      registers: [metrics.registry],
      collect() {
        for (const [status, n] of Object.entries(services.health.stats().probes)) this.set({ status }, n);
      },
    });
    new client.Gauge({
      name: "switchboard_health_cache_errors",
      help: "Health cache reads or writes that failed since start (a live probe stood in for each).",
      registers: [metrics.registry],
      collect() {
        this.set(services.health.stats().cacheErrors);
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
