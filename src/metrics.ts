// Prometheus metrics (prom-client) shared by every protocol: one registry per server instance.

import client from "prom-client";
import type { Switchboard } from "./core/index.js";

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpRequests: client.Counter<"method" | "route" | "status">;
  readonly httpInFlight: client.Gauge<"method" | "route">;
  readonly wakeLatency: client.Histogram<"kind">;
}

export function createMetrics(core: Switchboard): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "switchboard_process_" });
  const httpRequests = new client.Counter({
    name: "switchboard_http_requests_total",
    help: "HTTP requests answered, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const httpInFlight = new client.Gauge({
    name: "switchboard_http_requests_in_flight",
    help: "HTTP requests being handled (long-polls included), by method and route.",
    labelNames: ["method", "route"] as const,
    registers: [registry],
  });
  const wakeLatency = new client.Histogram({
    name: "switchboard_long_poll_wake_seconds",
    help: "Time from a change being applied to the long-poll it woke being answered.",
    labelNames: ["kind"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new client.Gauge({
    name: "switchboard_waiters",
    help: "Long-polls held, by kind (consumer, provider).",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      const w = core.stats().waiters;
      this.set({ kind: "consumer" }, w.consumer);
      this.set({ kind: "provider" }, w.provider);
    },
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(
    "switchboard_requests_queued",
    "Change requests waiting for their providers.",
    () => core.stats().queuedRequests,
  );
  gauge("switchboard_registers", "Registers held.", () => core.stats().registers);
  gauge("switchboard_revision", "The global revision.", () => core.revision);
  gauge("switchboard_events_buffered", "Events in the resume ring.", () => core.stats().events);
  gauge("switchboard_commits", "Group commits made since start.", () => core.stats().commits);
  return { registry, httpRequests, httpInFlight, wakeLatency };
}
