// Prometheus metrics (prom-client) shared by every protocol: one registry per server instance.

import { monitorEventLoopDelay } from "node:perf_hooks";
import client from "prom-client";
import type { Switchboard } from "./core/index.js";

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpRequests: client.Counter<"method" | "route" | "status">;
  readonly httpInFlight: client.Gauge<"method" | "route">;
  readonly wakeLatency: client.Histogram<"kind">;
  /** Operations served, by protocol and operation (set, read, poll, register, …). */
  readonly operations: client.Counter<"protocol" | "operation">;
  /** Coded errors answered, by protocol and code; malformed input that gets no answer counts as code MALFORMED. */
  readonly errors: client.Counter<"protocol" | "code">;
  /** Storage failures, by operation (append, fsync, snapshot, probe, …) and errno code. */
  readonly storageErrors: client.Counter<"op" | "code">;
  /** Event streams cut because their client stopped reading (it resumes with Last-Event-ID), by protocol. */
  readonly streamsCut: client.Counter<"protocol">;
  /** Stops the event-loop delay sampler. */
  close(): void;
}

/**
 * The storage error counter exists before the core (the store is opened first and may fail while loading);
 * createMetrics registers it with the server's registry.
 */
export function createStorageErrorCounter(): client.Counter<"op" | "code"> {
  return new client.Counter({
    name: "switchboard_storage_errors_total",
    help: "Storage failures, by operation and error code (ENOSPC, EIO, …).",
    labelNames: ["op", "code"] as const,
    registers: [],
  });
}

export function createMetrics(
  core: Switchboard,
  storageErrors: client.Counter<"op" | "code"> = createStorageErrorCounter(),
): Metrics {
  const registry = new client.Registry();
  registry.registerMetric(storageErrors);
  const stopProcessMetrics = processMetrics(registry);
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
    help: "Long-polls and event streams held, by kind (consumer, provider, stream).",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      const w = core.stats().waiters;
      this.set({ kind: "consumer" }, w.consumer);
      this.set({ kind: "provider" }, w.provider);
      this.set({ kind: "stream" }, w.stream);
    },
  });
  const operations = new client.Counter({
    name: "switchboard_protocol_operations_total",
    help: "Operations served, by protocol and operation.",
    labelNames: ["protocol", "operation"] as const,
    registers: [registry],
  });
  const errors = new client.Counter({
    name: "switchboard_protocol_errors_total",
    help: "Coded errors answered (or malformed messages dropped), by protocol and code.",
    labelNames: ["protocol", "code"] as const,
    registers: [registry],
  });
  const streamsCut = new client.Counter({
    name: "switchboard_event_streams_cut_total",
    help: "Event streams cut because the client stopped reading (it resumes with Last-Event-ID), by protocol.",
    labelNames: ["protocol"] as const,
    registers: [registry],
  });
  const gauge = sampledGauge(registry);
  gauge(
    "switchboard_requests_queued",
    "Change requests waiting for their providers.",
    () => core.stats().queuedRequests,
  );
  gauge("switchboard_registers", "Registers held.", () => core.stats().registers);
  gauge("switchboard_revision", "The global revision.", () => core.revision);
  gauge("switchboard_events_buffered", "Events in the resume ring.", () => core.stats().events);
  gauge("switchboard_commits", "Group commits made since start.", () => core.stats().commits);
  gauge(
    "switchboard_where_evaluations",
    "Wake-filter (where=) evaluations since start: one per distinct filter and change, however many wait on it.",
    () => core.stats().whereEvaluations,
  );
  return {
    registry,
    httpRequests,
    httpInFlight,
    wakeLatency,
    operations,
    errors,
    storageErrors,
    streamsCut,
    close: stopProcessMetrics,
  };
}

/**
 * Process metrics that cost O(1) per scrape. prom-client's default collectors list every open
 * file descriptor and handle on the event loop — a 20–50 ms stall per scrape with 10,000 polls held.
 */
function processMetrics(registry: client.Registry): () => void {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  let lastCpu = process.cpuUsage();
  const cpu = new client.Counter({
    name: "switchboard_process_cpu_seconds_total",
    help: "CPU time used by the process (user + system), seconds.",
    registers: [registry],
    collect() {
      const now = process.cpuUsage();
      this.inc((now.user - lastCpu.user + now.system - lastCpu.system) / 1e6);
      lastCpu = now;
    },
  });
  void cpu;
  const gauge = sampledGauge(registry);
  gauge("switchboard_process_resident_memory_bytes", "Resident set size, bytes.", () => process.memoryUsage.rss());
  gauge("switchboard_process_heap_used_bytes", "V8 heap in use, bytes.", () => process.memoryUsage().heapUsed);
  gauge("switchboard_process_start_time_seconds", "Start time of the process, Unix seconds.", () => startSeconds);
  gauge("switchboard_event_loop_delay_p99_seconds", "p99 event-loop delay since the previous scrape, seconds.", () => {
    const v = lag.percentile(99) / 1e9;
    lag.reset();
    return Number.isFinite(v) ? v : 0;
  });
  return () => lag.disable();
}

/** A gauge read at scrape time. */
function sampledGauge(registry: client.Registry) {
  return (name: string, help: string, read: () => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
}
