// One WebSocket client: frames in order, rate-capped, dispatched in both call styles; its subscriptions end with it.

import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { z } from "zod";
import { isSwitchboardError, type Switchboard, SwitchboardError } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";
import {
  ACTIVATION,
  HUB_BACKEND,
  HUB_CALL,
  HUB_UNSUB,
  info,
  itemFactory,
  NOTIFICATION_METHOD,
  notification,
  type StreamItem,
} from "./hub.js";
import { METHODS, type MethodContext, parseParams, validateParams } from "./methods.js";
import { TokenBucket } from "./rate-limit.js";
import {
  errorFromSwitchboard,
  errorLabel,
  parseFrame,
  RPC,
  type RpcEntry,
  type RpcRequest,
  type RpcResponse,
  rpcError,
  rpcResult,
} from "./rpc.js";
import { isSchemaMethod, schemaContent } from "./schema.js";
import { Watches } from "./watches.js";

export interface ConnectionLimits {
  readonly maxBatch: number;
  /** Messages per second (batch entries count one each); 0 = no cap. */
  readonly rateLimit: number;
  readonly maxSubscriptions: number;
  /** Frames parsed but not yet handled before the socket stops being read (four times this: disconnect). */
  readonly maxPendingFrames: number;
  /** Bytes queued for a client that does not read; past this it is disconnected. */
  readonly maxBufferedBytes: number;
}

export interface ConnectionDeps {
  readonly core: Switchboard;
  readonly methods: MethodContext;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly limits: ConnectionLimits;
  readonly version: string;
  /** Refuses a call its caller may not make (throws FORBIDDEN or UNAUTHENTICATED); absent: everything allowed. */
  readonly authorize?: (method: string, params: unknown) => void;
}

const PROTOCOL = "jsonrpc";
const WATCH = "registry.watch";
const UNWATCH = new Set(["registry.unwatch", "registry.watch_unsub", HUB_UNSUB]);

const HUB_CHILD_PREFIX = `${HUB_BACKEND}.${ACTIVATION.namespace}.`;
const hubParams = z.object({ method: z.string().min(1).max(256), params: z.unknown().optional() });
const unsubParams = z.union([
  z.tuple([z.number().int()]),
  z.object({ subscription: z.number().int() }).transform((o) => [o.subscription] as const),
]);

interface Outcome {
  readonly response?: RpcResponse;
  /** Runs after the response is on the wire (subscription items must follow the id they belong to). */
  readonly after?: () => Promise<void> | void;
}

export class RpcConnection {
  readonly #ws: WebSocket;
  readonly #d: ConnectionDeps;
  readonly #bucket: TokenBucket;
  readonly #items: ReturnType<typeof itemFactory>;
  readonly #watches: Watches;
  #nextSub = 1;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #closed = false;

  constructor(ws: WebSocket, deps: ConnectionDeps) {
    this.#ws = ws;
    this.#d = deps;
    this.#bucket = new TokenBucket(deps.limits.rateLimit, () => deps.core.clock.now());
    this.#items = itemFactory(() => deps.core.clock.now());
    this.#watches = new Watches(deps.core, deps.limits.maxSubscriptions);
  }

  /** One frame: parsed and rate-checked now, handled after every earlier frame of this client. */
  onFrame(data: Buffer): void {
    if (this.#closed) return;
    const frame = parseFrame(data.toString("utf8"), this.#d.limits.maxBatch);
    if (frame.kind === "reject") {
      this.#count(frame.response);
      this.#send(frame.response);
      return;
    }
    const max = this.#d.limits.maxPendingFrames;
    // Frames already read when the socket paused still arrive; far past the mark, the client is cut.
    if (this.#pending >= 4 * max) {
      this.#d.metrics.errors.labels(PROTOCOL, "RATE_LIMITED").inc();
      this.#ws.close(1008, "too many unanswered messages");
      return;
    }
    const entries = (frame.kind === "single" ? [frame.entry] : frame.entries).map((e) => this.#admit(e));
    // Backpressure: stop reading from a client that is ahead of its answers, resume once it is not.
    if (++this.#pending >= max && !this.#ws.isPaused) this.#ws.pause();
    this.#chain = this.#chain
      .then(() => this.#process(frame.kind === "batch", entries))
      .catch((err: unknown) => this.#d.log.error({ err }, "frame handling failed"))
      .finally(() => {
        if (--this.#pending <= max / 2 && this.#ws.isPaused && !this.#closed) this.#ws.resume();
      });
  }

  /** Ends every subscription; called when the socket closes. */
  close(): void {
    this.#closed = true;
    this.#watches.endAll();
  }

  /** Spends a token on a request; without one it becomes a RATE_LIMITED answer (or nothing, for a notification). */
  #admit(entry: RpcEntry): RpcEntry | null {
    if ("invalid" in entry || this.#bucket.take()) return entry;
    this.#d.metrics.errors.labels(PROTOCOL, "RATE_LIMITED").inc();
    if (entry.request.id === undefined) return null;
    const retryAfter = this.#bucket.retryAfterSeconds();
    const err = new SwitchboardError("RATE_LIMITED", `more than ${this.#d.limits.rateLimit} messages per second`, {
      retryAfter,
      details: { limit: this.#d.limits.rateLimit },
    });
    return { invalid: errorFromSwitchboard(entry.request.id, err) };
  }

  async #process(batch: boolean, entries: readonly (RpcEntry | null)[]): Promise<void> {
    const responses: RpcResponse[] = [];
    const afters: (() => Promise<void> | void)[] = [];
    for (const entry of entries) {
      if (entry === null) continue;
      if ("invalid" in entry) {
        // Rate-limited entries were counted when they were refused.
        if (errorLabel(entry.invalid) !== "RATE_LIMITED") this.#count(entry.invalid);
        responses.push(entry.invalid);
        continue;
      }
      const outcome = await this.#run(entry.request);
      if (outcome.response && entry.request.id !== undefined) {
        this.#count(outcome.response);
        responses.push(outcome.response);
      }
      if (outcome.after) afters.push(outcome.after);
    }
    if (batch) {
      if (responses.length > 0) this.#send(responses);
    } else if (responses[0]) {
      this.#send(responses[0]);
    }
    for (const after of afters) await after();
  }

  async #run(req: RpcRequest): Promise<Outcome> {
    const id = req.id ?? null;
    try {
      this.#d.authorize?.(req.method, req.params);
      if (req.method === "_info") {
        this.#op("_info");
        return { response: rpcResult(id, info(this.#d.version)) };
      }
      if (req.method === HUB_CALL) return this.#hubCall(req);
      if (UNWATCH.has(req.method)) {
        this.#op(req.method);
        const [sub] = validateParams(unsubParams, req.params);
        return { response: rpcResult(id, this.#watches.end(sub)) };
      }
      if (req.method === WATCH) {
        this.#op(WATCH);
        if (req.id === undefined) return {};
        const sub = this.#nextSub++;
        const start = this.#watches.open(sub, req.params, (change) => this.#send(notification(WATCH, sub, change)));
        return { response: rpcResult(id, sub), after: start };
      }
      const def = req.method.startsWith("registry.") ? METHODS[req.method.slice("registry.".length)] : undefined;
      if (!def) {
        this.#op("unknown");
        return {
          response: rpcError(id, RPC.METHOD_NOT_FOUND, "Method not found", { method: req.method.slice(0, 256) }),
        };
      }
      this.#op(req.method);
      return { response: rpcResult(id, await def.run(this.#d.methods, parseParams(def, req.params))) };
    } catch (err) {
      return { response: this.#failure(id, err) };
    }
  }

  /** Hub style: answer the subscription id at once, then stream the inner call's items. */
  #hubCall(req: RpcRequest): Outcome {
    this.#op(HUB_CALL);
    const { method: named, params } = validateParams(hubParams, req.params);
    // A path may name the hub first (`registry-hub.registry.list`): the activation path is the same.
    const method = named.startsWith(HUB_CHILD_PREFIX) ? named.slice(HUB_BACKEND.length + 1) : named;
    if (req.id === undefined) {
      // No id, no subscription to report to: run it for its effect only.
      return { after: () => this.#hubRun(method, params).then(() => undefined) };
    }
    const sub = this.#nextSub++;
    if (method === WATCH) {
      let start: () => void;
      try {
        start = this.#watches.open(
          sub,
          params,
          (change) => this.#push(sub, this.#items.data(WATCH, change)),
          (index) => {
            const message = `watch fell behind at revision ${index}; resume with after=${index}`;
            this.#push(sub, this.#items.error(message, "CUT", true));
            this.#push(sub, this.#items.done());
          },
        );
      } catch (err) {
        const items = this.#errorItems(err);
        return {
          response: rpcResult(req.id, sub),
          after: () => {
            for (const i of items) this.#push(sub, i);
          },
        };
      }
      return { response: rpcResult(req.id, sub), after: start };
    }
    return {
      response: rpcResult(req.id, sub),
      after: async () => {
        for (const item of await this.#hubRun(method, params)) this.#push(sub, item);
      },
    };
  }

  /** One inner hub call → its items: data then done, or error then done. */
  async #hubRun(method: string, params: unknown): Promise<StreamItem[]> {
    const items = this.#items;
    if (method === "_info") return [items.data("_info", info(this.#d.version)), items.done()];
    if (isSchemaMethod(method)) {
      this.#op("schema");
      try {
        return [items.data(method, schemaContent(method, params, this.#d.version)), items.done()];
      } catch (err) {
        return this.#errorItems(err);
      }
    }
    const def = method.startsWith("registry.") ? METHODS[method.slice("registry.".length)] : undefined;
    if (!def) {
      this.#d.metrics.errors.labels(PROTOCOL, "METHOD_NOT_FOUND").inc();
      return [items.error(`Method not found: ${method.slice(0, 256)}`, "METHOD_NOT_FOUND", false), items.done()];
    }
    this.#op(method);
    try {
      const content = await def.run(this.#d.methods, parseParams(def, params));
      return [items.data(method, content), items.done()];
    } catch (err) {
      return this.#errorItems(err);
    }
  }

  /** A failure as hub items: an error (param problems coded INVALID_PARAMS, as -32602 would say), then done. */
  #errorItems(err: unknown): StreamItem[] {
    const e = this.#asSwitchboard(err);
    this.#d.metrics.errors.labels(PROTOCOL, e.code).inc();
    const code = e.code === "INVALID_BODY" ? "INVALID_PARAMS" : e.code;
    const recoverable = e.kind === "exhausted" || e.kind === "unavailable";
    return [this.#items.error(e.message, code, recoverable), this.#items.done()];
  }

  #push(sub: number, item: StreamItem): void {
    this.#send(notification(NOTIFICATION_METHOD, sub, item));
  }

  #failure(id: RpcResponse["id"], err: unknown): RpcResponse {
    return errorFromSwitchboard(id, this.#asSwitchboard(err));
  }

  #asSwitchboard(err: unknown): SwitchboardError {
    if (isSwitchboardError(err)) return err;
    this.#d.log.error({ err }, "unexpected error in a JSON-RPC call");
    return new SwitchboardError("INTERNAL", "Internal error");
  }

  #op(method: string): void {
    this.#d.metrics.operations.labels(PROTOCOL, METHOD_LABELS.has(method) ? method : "unknown").inc();
  }

  #count(response: RpcResponse): void {
    const label = errorLabel(response);
    if (label) this.#d.metrics.errors.labels(PROTOCOL, label).inc();
  }

  #send(message: unknown): void {
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return;
    // A client that does not read its answers is cut, rather than buffered without end.
    if (ws.bufferedAmount > this.#d.limits.maxBufferedBytes) {
      this.#d.log.warn({ buffered: ws.bufferedAmount }, "client not reading; disconnecting");
      this.#d.metrics.errors.labels(PROTOCOL, "SLOW_CONSUMER").inc();
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(message));
  }
}

const METHOD_LABELS = new Set([
  "_info",
  "schema",
  HUB_CALL,
  WATCH,
  ...UNWATCH,
  ...Object.keys(METHODS).map((m) => `registry.${m}`),
]);
