// The consumer side of the client on its own: shared-poll subscriptions, reads, change requests, the connection state.
// `@switchboard/client/consumer` exports only this, so a bundle that never provides leaves the provider code out.

import {
  Connection,
  type ConnectionState,
  type ConnectionStatus,
  type EpochListener,
  type StateListener,
} from "./connection.js";
import { ConsumerHub, canonicalWhere, type HubOptions } from "./consumer-hub.js";
import { abortError, checkName, checkPrefix } from "./errors.js";
import { Transport } from "./http.js";
import { AbortFanout, defaultTimers, durationMs, linkAbort, type Runtime } from "./runtime.js";
import type { StandardSchemaV1 } from "./schema.js";
import { type DiscoverFilter, matchesFilter, type Service, servicePrefix, toServices } from "./services.js";
import {
  missing,
  type NameSubscription,
  NameSubscriptionImpl,
  type PrefixSubscription,
  PrefixSubscriptionImpl,
  type SubscriptionHost,
  type SubscriptionImpl,
  toItem,
} from "./subscription.js";
import type {
  ClientOptions,
  ConsumeItem,
  ConsumerAnswer,
  Duration,
  FoundItem,
  Json,
  JsonObject,
  ListPage,
  RequestHandle,
  RequestInput,
  RequestOptions,
  RequestOutcome,
  RequestReceipt,
  ServerStatus,
} from "./types.js";

export interface CallSignal {
  readonly signal?: AbortSignal | undefined;
}

export interface ConsumeOptions<T> extends CallSignal {
  /**
   * A Standard Schema (zod, valibot, arktype …) for the register values: items carry its output, and a
   * value that does not match ends the subscription with a ClientError `INVALID_VALUE` (status 0).
   */
  readonly schema?: StandardSchemaV1<unknown, T> | undefined;
  /**
   * A Mongo-style filter on `{name, value, metadata}` (GET /consumer `where=`): after the first
   * state (the current one, whatever the filter), the subscription is woken only by changes that
   * match; a deletion or expiry (which leaves only `{name}`) comes with the next wake, as
   * `found: false`. Subscriptions with the same filter (same JSON once keys are sorted) share one
   * long-poll; each distinct filter has its own.
   */
  readonly where?: JsonObject | undefined;
}

export class SwitchboardConsumer implements SubscriptionHost {
  protected readonly root = new AbortController();
  private readonly fanout = new AbortFanout(this.root.signal);
  protected readonly connection: Connection;
  protected readonly transport: Transport;
  protected readonly rt: Runtime;
  /** What every background loop of the client shares. */
  protected readonly common: Omit<HubOptions, "waitMs">;
  private readonly consumers: ConsumerHub;
  /** One hub per distinct `where` filter in use, by its canonical JSON. */
  private readonly filtered = new Map<string, ConsumerHub>();
  private readonly consumerWaitMs: number;
  private readonly detach: () => void;
  private closing: Promise<void> | undefined;

  constructor(options: ClientOptions) {
    this.rt = {
      timers: options.timers ?? defaultTimers,
      now: options.now ?? (() => Date.now()),
      random: options.random ?? Math.random,
    };
    const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.connection = new Connection(this.rt);
    this.transport = new Transport(options.url, options.token, fetchFn, this.rt, this.connection);
    this.common = {
      transport: this.transport,
      runtime: this.rt,
      closed: this.root.signal,
      debounceMs: options.debounceMs ?? 10,
      retry: options.retry,
      connection: this.connection,
    };
    this.consumerWaitMs = durationMs(options.consumerWait ?? "30s");
    this.consumers = new ConsumerHub({ ...this.common, waitMs: this.consumerWaitMs });
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => void this.close();
      signal.addEventListener("abort", onAbort, { once: true });
      this.detach = () => signal.removeEventListener("abort", onAbort);
      // After the subclass has built its parts: close() stops them too.
      if (signal.aborted) queueMicrotask(onAbort);
    } else {
      this.detach = () => {};
    }
  }

  get closed(): boolean {
    return this.root.signal.aborted;
  }

  // ── connection state ──────────────────────────────────────────────────────────────────────────

  /** `connecting` (no answer yet), `connected`, `reconnecting` (the server cannot be reached) or `closed`. */
  get state(): ConnectionState {
    return this.connection.status.state;
  }

  /** The state with the server's epoch, the last error and when the next attempt goes out. */
  get status(): ConnectionStatus {
    return this.connection.status;
  }

  /** @internal SubscriptionHost */
  get connected(): boolean {
    return this.connection.status.state === "connected";
  }

  /** Calls `listener` on every change of state, last error or next attempt time. Returns the unsubscribe function. */
  onStateChange(listener: StateListener): () => void {
    return this.connection.onStateChange(listener);
  }

  /**
   * Calls `listener` when the server's epoch changes: it lost its data (restart on an empty data dir,
   * another database). The client has already reset its indexes and re-creates its provisions;
   * subscriptions get the full current state again.
   */
  onEpochChange(listener: EpochListener): () => void {
    return this.connection.onEpochChange(listener);
  }

  /**
   * Resolves when the server has answered (state `connected`); rejects with the signal's reason if it
   * aborts first (`AbortSignal.timeout(5000)` bounds the wait) or with an AbortError on close().
   */
  ready(options: CallSignal = {}): Promise<void> {
    const { signal } = options;
    if (this.state === "connected") return Promise.resolve();
    if (this.closed) return Promise.reject(abortError(this.root.signal.reason));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        off();
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const off = this.connection.onStateChange((s) => {
        if (s.state === "connected") {
          done();
          resolve();
        } else if (s.state === "closed") {
          done();
          reject(abortError());
        }
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      // Nothing may be running that would reach the server: ask it once.
      if (this.state === "connecting") {
        this.call("GET", "/healthz", signal, {}).catch(() => {});
      }
    });
  }

  // ── reads and change requests ───────────────────────────────────────────────────────────────────

  /** Current state of one register, or of several (GET /consumer without index). */
  get(name: string, options?: CallSignal): Promise<ConsumeItem>;
  get(names: readonly string[], options?: CallSignal): Promise<ConsumeItem[]>;
  async get(names: string | readonly string[], options: CallSignal = {}): Promise<ConsumeItem | ConsumeItem[]> {
    const list = typeof names === "string" ? [names] : names;
    for (const n of list) checkName(n);
    const answer = await this.call<ConsumerAnswer>("GET", "/consumer", options.signal, {
      query: list.map((n) => ["name", n] as const),
    });
    const byName = new Map(answer.registers.map((r) => [r.name, r]));
    const items = list.map((n) => {
      const r = byName.get(n);
      return r?.found ? toItem(r, answer.index) : missing(n, answer.index);
    });
    return typeof names === "string" ? items[0]! : items;
  }

  /**
   * A change request's outcome (GET /consumer/requests/<id>). With `wait`, the server holds the
   * call until the outcome is final (done, rejected, failed, expired, dropped) or the wait ends.
   */
  outcome(id: number, options: CallSignal & { wait?: Duration | undefined } = {}): Promise<RequestOutcome> {
    const waitMs = options.wait === undefined ? undefined : durationMs(options.wait);
    return this.call<RequestOutcome>("GET", `/consumer/requests/${id}`, options.signal, {
      query: [["wait", waitMs === undefined ? undefined : `${waitMs}ms`]],
      ...(waitMs === undefined ? {} : { timeoutMs: waitMs + 30_000 }),
    });
  }

  /**
   * Asks the provider of `name` to change its value (PUT /consumer → 202 with the request id). The
   * answer's `outcome` promise settles with the request's final outcome (see RequestHandle).
   */
  async request(name: string, value: Json, options: RequestOptions = {}): Promise<RequestHandle> {
    const input: { -readonly [K in keyof RequestInput]: RequestInput[K] } = { name, value };
    if (options.requester !== undefined) input.requester = options.requester;
    if (options.expiresIn !== undefined) input.expiresIn = options.expiresIn;
    if (options.requestKey !== undefined) input.requestKey = options.requestKey;
    if (options.ifVersion !== undefined) input.ifVersion = options.ifVersion;
    if (options.ifModRevision !== undefined) input.ifModRevision = options.ifModRevision;
    const [receipt] = await this.requestMany([input], options);
    return this.handle(receipt!, options.signal);
  }

  /** The receipt plus a lazy, non-enumerable `outcome` (a receipt still compares equal to {id, name}). */
  private handle(receipt: RequestReceipt, signal: AbortSignal | undefined): RequestHandle {
    let outcome: Promise<RequestOutcome> | undefined;
    const finalOutcome = async (): Promise<RequestOutcome> => {
      for (;;) {
        const o = await this.outcome(receipt.id, { wait: "30s", signal });
        if (o.status !== "pending" && o.status !== "delivered") return o;
      }
    };
    return Object.defineProperty({ ...receipt }, "outcome", {
      enumerable: false,
      get: () => {
        outcome ??= finalOutcome();
        return outcome;
      },
    }) as RequestHandle;
  }

  /** Several change requests in one PUT /consumer, all or nothing (one 404 or 429 refuses them all). */
  async requestMany(inputs: readonly RequestInput[], options: CallSignal = {}): Promise<RequestReceipt[]> {
    for (const i of inputs) checkName(i.name);
    const answer = await this.call<{ requests: RequestReceipt[] }>("PUT", "/consumer", options.signal, {
      body: { requests: inputs },
    });
    return answer.requests;
  }

  /** One page of registers (GET /registers). */
  list(
    options: CallSignal & { prefix?: string | undefined; limit?: number | undefined; cursor?: string | undefined } = {},
  ): Promise<ListPage> {
    if (options.prefix !== undefined) checkPrefix(options.prefix);
    return this.call<ListPage>("GET", "/registers", options.signal, {
      query: [
        ["prefix", options.prefix],
        ["limit", options.limit],
        ["cursor", options.cursor],
      ],
    });
  }

  // ── subscriptions ─────────────────────────────────────────────────────────────────────────────

  /**
   * Watches one register, or every register under a prefix. Yields the current state first, then each
   * change in order; if the reader falls behind, unread values of a register are replaced by its latest
   * (a found:false is never dropped). All subscriptions of this client share one long-poll (one per
   * distinct `where` filter).
   */
  consume<T = Json>(name: string, options?: ConsumeOptions<T>): NameSubscription<T>;
  consume<T = Json>(selector: { prefix: string }, options?: ConsumeOptions<T>): PrefixSubscription<T>;
  consume<T = Json>(
    selector: string | { prefix: string },
    options: ConsumeOptions<T> = {},
  ): NameSubscription<T> | PrefixSubscription<T> {
    const where = options.where === undefined ? undefined : canonicalWhere(options.where);
    let sub: SubscriptionImpl & (NameSubscription | PrefixSubscription);
    if (typeof selector === "string") {
      checkName(selector);
      sub = new NameSubscriptionImpl(selector, this, options.signal);
    } else {
      checkPrefix(selector.prefix);
      sub = new PrefixSubscriptionImpl(selector.prefix, this, options.signal);
    }
    sub.schema = options.schema;
    sub.where = where;
    if (this.closed || options.signal?.aborted) sub.close();
    else this.hubOf(where, true)!.add(sub);
    return sub as unknown as NameSubscription<T> | PrefixSubscription<T>;
  }

  /**
   * The services of a type that are registered now; `healthy: true` keeps those whose last
   * health verdict is passing, `tags` those that carry every tag.
   */
  async discover(type: string, options: CallSignal & DiscoverFilter = {}): Promise<Service[]> {
    const prefix = servicePrefix(type);
    const answer = await this.call<ConsumerAnswer>("GET", "/consumer", options.signal, {
      query: [["prefix", prefix]],
    });
    const items = answer.registers.flatMap((r): FoundItem[] => (r.found ? [toItem(r, answer.index)] : []));
    return toServices(type, items).filter((svc) => matchesFilter(svc, options));
  }

  /** What runs where: readiness, revision, registers, held long-polls and every listener (GET /status). */
  serverStatus(options: CallSignal = {}): Promise<ServerStatus> {
    return this.call<ServerStatus>("GET", "/status", options.signal, {});
  }

  /**
   * Any call of the HTTP API, answered with the server's JSON as it is (tools that print the wire
   * shape, like the CLI's --json, use it). Errors are ClientError / ConnectionError like every call.
   */
  raw<T = unknown>(
    method: "GET" | "PUT" | "POST" | "DELETE",
    path: string,
    options: CallSignal & {
      query?: readonly (readonly [string, string | number | undefined])[] | undefined;
      body?: unknown;
    } = {},
  ): Promise<T> {
    if (!path.startsWith("/")) throw new TypeError(`path must start with "/": ${JSON.stringify(path)}`);
    const rest: { query?: readonly (readonly [string, string | number | undefined])[]; body?: unknown } = {};
    if (options.query !== undefined) rest.query = options.query;
    if (options.body !== undefined) rest.body = options.body;
    return this.call<T>(method, path, options.signal, rest);
  }

  /**
   * Ends every subscription (and, in SwitchboardClient, provision), aborts every request in flight
   * and clears every timer. Resolves when the client's loops have stopped.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.root.abort(abortError());
      this.connection.close();
      this.detach();
      const hubs = [this.consumers, ...this.filtered.values()];
      await Promise.all([...hubs.map((h) => h.close()), ...this.closeParts()]);
    })();
    return this.closing;
  }

  /** The shared poll of a filter (created on first use when `create`). */
  private hubOf(where: string | undefined, create: boolean): ConsumerHub | undefined {
    if (where === undefined) return this.consumers;
    let hub = this.filtered.get(where);
    if (!hub && create) {
      hub = new ConsumerHub({
        ...this.common,
        waitMs: this.consumerWaitMs,
        where,
        onIdle: (h) => {
          if (this.filtered.get(where) === h) this.filtered.delete(where);
        },
      });
      this.filtered.set(where, hub);
    }
    return hub;
  }

  /** What a subclass adds to close(). */
  protected closeParts(): Promise<unknown>[] {
    return [];
  }

  /** @internal SubscriptionHost */
  unsubscribe(sub: SubscriptionImpl): void {
    this.hubOf(sub.where, false)?.remove(sub);
  }

  protected async call<T>(
    method: string,
    path: string,
    signal: AbortSignal | undefined,
    rest: { query?: readonly (readonly [string, string | number | undefined])[]; body?: unknown },
  ): Promise<T> {
    if (this.closed) throw abortError(this.root.signal.reason);
    const controller = new AbortController();
    const unlinkRoot = this.fanout.link(controller);
    const unlinkUser = signal ? linkAbort(signal, controller) : () => {};
    try {
      return await this.transport.call<T>(method, path, { ...rest, signal: controller.signal });
    } finally {
      unlinkRoot();
      unlinkUser();
    }
  }
}
