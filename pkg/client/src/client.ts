// SwitchboardClient: typed REST calls, shared-poll subscriptions and provisions, service helpers, and close().

import {
  Connection,
  type ConnectionState,
  type ConnectionStatus,
  type EpochListener,
  type StateListener,
} from "./connection.js";
import { ConsumerHub } from "./consumer-hub.js";
import { abortError, checkName, checkPrefix } from "./errors.js";
import { Transport } from "./http.js";
import { ProviderHub } from "./provider-hub.js";
import { type Provision, ProvisionImpl } from "./provision.js";
import { AbortFanout, defaultTimers, durationMs, linkAbort, type Runtime } from "./runtime.js";
import { type StandardSchemaV1, validate } from "./schema.js";
import {
  type Service,
  type ServiceOptions,
  type ServiceRegistration,
  serviceName,
  servicePrefix,
  serviceValue,
  toServices,
} from "./services.js";
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
  RegisterWrite,
  RequestInput,
  RequestReceipt,
  WriteAnswer,
  WriteResult,
} from "./types.js";
import { Writer } from "./writer.js";

export interface CallSignal {
  readonly signal?: AbortSignal | undefined;
}

export interface ProvideOptions<T extends Json = Json> extends CallSignal {
  readonly metadata?: JsonObject | undefined;
  /** Kept alive by refreshes at half the TTL, batched with the client's other refreshes. */
  readonly ttl?: Duration | undefined;
  /** A Standard Schema (zod, valibot, arktype …) every value given to provide() and set() must match. */
  readonly schema?: StandardSchemaV1<unknown, T> | undefined;
}

export interface ConsumeOptions<T> extends CallSignal {
  /**
   * A Standard Schema (zod, valibot, arktype …) for the register values: items carry its output, and a
   * value that does not match ends the subscription with a ClientError `INVALID_VALUE` (status 0).
   */
  readonly schema?: StandardSchemaV1<unknown, T> | undefined;
}

export class SwitchboardClient implements SubscriptionHost {
  private readonly root = new AbortController();
  private readonly fanout = new AbortFanout(this.root.signal);
  private readonly connection: Connection;
  private readonly transport: Transport;
  private readonly rt: Runtime;
  private readonly consumers: ConsumerHub;
  private readonly providers: ProviderHub;
  private readonly writer: Writer;
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
    const common = {
      transport: this.transport,
      runtime: this.rt,
      closed: this.root.signal,
      debounceMs: options.debounceMs ?? 10,
      retry: options.retry,
      connection: this.connection,
    };
    this.writer = new Writer(common);
    this.consumers = new ConsumerHub({ ...common, waitMs: durationMs(options.consumerWait ?? "30s") });
    this.providers = new ProviderHub(
      { ...common, waitMs: durationMs(options.providerWait ?? "30s") },
      this.writer,
      this.connection,
    );
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => void this.close();
      signal.addEventListener("abort", onAbort, { once: true });
      this.detach = () => signal.removeEventListener("abort", onAbort);
      if (signal.aborted) void this.close();
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

  // ── thin calls ────────────────────────────────────────────────────────────────────────────────

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

  /** Writes one register (PUT /provider). `ttl: 0` removes the TTL; omitted keeps the current deadline. */
  async set(
    name: string,
    value: Json,
    options: CallSignal & { metadata?: JsonObject | undefined; ttl?: Duration | undefined } = {},
  ): Promise<WriteResult> {
    const w: { -readonly [K in keyof RegisterWrite]: RegisterWrite[K] } = { name, value };
    if (options.metadata !== undefined) w.metadata = options.metadata;
    if (options.ttl !== undefined) w.ttl = options.ttl;
    const answer = await this.setMany([w], options);
    return answer.registers[0]!;
  }

  /** Writes several registers at one revision range, all or nothing. */
  setMany(writes: readonly RegisterWrite[], options: CallSignal = {}): Promise<WriteAnswer> {
    for (const w of writes) checkName(w.name);
    return this.call<WriteAnswer>("PUT", "/provider", options.signal, { body: { registers: writes } });
  }

  /** Deletes registers (DELETE /provider); resolves with the names that existed. */
  async delete(names: string | readonly string[], options: CallSignal = {}): Promise<string[]> {
    const list = typeof names === "string" ? [names] : names;
    for (const n of list) checkName(n);
    const answer = await this.call<{ deleted: string[] }>("DELETE", "/provider", options.signal, {
      query: list.map((n) => ["name", n] as const),
    });
    return answer.deleted;
  }

  /** Asks the provider of `name` to change its value (PUT /consumer → 202 with the request id). */
  async request(
    name: string,
    value: Json,
    options: CallSignal & { requester?: string | undefined } = {},
  ): Promise<RequestReceipt> {
    const input: RequestInput =
      options.requester === undefined ? { name, value } : { name, value, requester: options.requester };
    const [receipt] = await this.requestMany([input], options);
    return receipt!;
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

  // ── subscriptions and provisions ─────────────────────────────────────────────────────────────

  /**
   * Watches one register, or every register under a prefix. Yields the current state first, then each
   * change in order; if the reader falls behind, unread values of a register are replaced by its latest
   * (a found:false is never dropped). All subscriptions of this client share one long-poll.
   */
  consume<T = Json>(name: string, options?: ConsumeOptions<T>): NameSubscription<T>;
  consume<T = Json>(selector: { prefix: string }, options?: ConsumeOptions<T>): PrefixSubscription<T>;
  consume<T = Json>(
    selector: string | { prefix: string },
    options: ConsumeOptions<T> = {},
  ): NameSubscription<T> | PrefixSubscription<T> {
    let sub: SubscriptionImpl & (NameSubscription | PrefixSubscription);
    if (typeof selector === "string") {
      checkName(selector);
      sub = new NameSubscriptionImpl(selector, this, options.signal);
    } else {
      checkPrefix(selector.prefix);
      sub = new PrefixSubscriptionImpl(selector.prefix, this, options.signal);
    }
    sub.schema = options.schema;
    if (this.closed || options.signal?.aborted) sub.close();
    else this.consumers.add(sub);
    return sub as unknown as NameSubscription<T> | PrefixSubscription<T>;
  }

  /** Publishes a register and keeps it: TTL refresh, change requests, set(), close(). */
  provide<T extends Json = Json>(name: string, value: NoInfer<T>, options: ProvideOptions<T> = {}): Provision<T> {
    checkName(name);
    const { schema } = options;
    if (schema !== undefined) validate(schema, name, value);
    const ttlMs = options.ttl === undefined ? undefined : durationMs(options.ttl);
    const p = new ProvisionImpl(name, value, options.metadata, options.ttl, ttlMs, this.providers, options.signal);
    if (schema !== undefined) p.check = (v) => validate(schema, name, v);
    if (this.closed || options.signal?.aborted) void p.close({ keep: true });
    else this.providers.add(p);
    return p as unknown as Provision<T>;
  }

  /** Registers services/<type>/<id> with value {host, port, …}, refreshed until closed. */
  async registerService(options: ServiceOptions): Promise<ServiceRegistration> {
    const name = serviceName(options.type, options.id);
    const provide: { -readonly [K in keyof ProvideOptions]: ProvideOptions[K] } = { ttl: options.ttl };
    if (options.metadata !== undefined) provide.metadata = options.metadata;
    if (options.signal !== undefined) provide.signal = options.signal;
    const provision = this.provide(name, serviceValue(options), provide);
    await provision.ready;
    return { name, provision, close: (o) => provision.close(o) };
  }

  /** The services of a type that are registered now. */
  async discover(type: string, options: CallSignal = {}): Promise<Service[]> {
    const prefix = servicePrefix(type);
    const answer = await this.call<ConsumerAnswer>("GET", "/consumer", options.signal, {
      query: [["prefix", prefix]],
    });
    const items = answer.registers.flatMap((r): FoundItem[] => (r.found ? [toItem(r, answer.index)] : []));
    return toServices(type, items);
  }

  /**
   * Ends every subscription and provision (without deregistering: TTLs run out), aborts every request in
   * flight and clears every timer. Resolves when the client's loops have stopped.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.root.abort(abortError());
      this.connection.close();
      this.detach();
      await Promise.all([this.consumers.close(), this.providers.close(), this.writer.close()]);
    })();
    return this.closing;
  }

  /** @internal SubscriptionHost */
  unsubscribe(sub: SubscriptionImpl): void {
    this.consumers.remove(sub);
  }

  private async call<T>(
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
