// The REST protocol: the provider/consumer long-polls, listings, SSE and the ops routes, mounted on the shared HTTP port.

import { z } from "zod";
import { defineProtocol, switchOption } from "../protocol.js";
import { aclRoutes } from "./acl.js";
import { consumerRoutes } from "./consumer.js";
import type { RestContext } from "./context.js";
import { fastPollRoutes } from "./fast-polls.js";
import { fastProviderPut } from "./fast-writes.js";
import { PollSlots } from "./limits.js";
import { restOpenApi } from "./openapi.js";
import { opsRoutes } from "./ops.js";
import { providerRoutes } from "./provider.js";
import { registerRoutes } from "./registers.js";
import { sseHub } from "./sse-hub.js";

export type { RestOptions } from "./context.js";

export const restProtocol = defineProtocol({
  name: "rest",
  options: z.object({
    publicMetrics: switchOption(false, "serve /metrics, /status and /openapi.json without a token when auth is on"),
    maxPollsPerClient: z.coerce
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe("long-polls and event streams one client address may hold at once (429 beyond)"),
    maxResponseBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024)
      .describe("largest unpaged read or poll answer; larger ones get 413 RESPONSE_TOO_LARGE (page with /registers)"),
  }),
  create({ core, services, log, metrics, http, listeners, settings }, limits) {
    const ctx: RestContext = {
      core,
      limits,
      services,
      options: { defaultWaitMs: settings.defaultWaitMs, publicMetrics: limits.publicMetrics },
      log,
      metrics,
      http,
      listeners,
      version: settings.version,
      startedAt: Date.now(),
    };
    http.label(...REST_ROUTES);
    http.describe(restOpenApi);
    // One slot count per poll route, shared by its node-level handler and its hono route (CORS requests).
    const slots = {
      consumer: new PollSlots(limits.maxPollsPerClient),
      provider: new PollSlots(limits.maxPollsPerClient),
      events: new PollSlots(limits.maxPollsPerClient),
    };
    const fast = fastPollRoutes(ctx, slots);
    http.fastRoute?.("GET", "/consumer", fast.consumer);
    http.fastRoute?.("GET", "/provider", fast.provider);
    http.fastRoute?.("GET", "/events", sseHub(ctx, slots.events));
    http.fastRoute?.("PUT", "/provider", fastProviderPut(ctx));
    http.app.route("/provider", providerRoutes(ctx, slots.provider));
    http.app.route("/consumer", consumerRoutes(ctx, slots.consumer));
    http.app.route("/", registerRoutes(ctx, slots.events));
    http.app.route("/", opsRoutes(ctx));
    http.app.route("/acl", aclRoutes(ctx));
    return {
      start: async () => [],
      stop: async () => undefined,
    };
  },
});

/** The paths REST serves, for the HTTP metrics' route label. */
export const REST_ROUTES = [
  "/provider",
  "/provider/acks",
  "/consumer",
  "/consumer/requests/*",
  "/registers",
  "/events",
  "/healthz",
  "/readyz",
  "/status",
  "/metrics",
  "/openapi.json",
  "/acl/*",
];
