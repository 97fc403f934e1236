// Public types of @switchboard/client: JSON values, wire shapes of the REST API and the items the client yields.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A duration as the server reads it: a number of seconds, or a string such as "500ms", "30s", "5m", "1h". */
export type Duration = number | string;

/** A register as GET /consumer and GET /registers return it when it exists. */
export interface WireRegister {
  readonly name: string;
  readonly found: true;
  readonly value: Json;
  readonly metadata: JsonObject;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string | null;
}

export interface WireMissing {
  readonly name: string;
  readonly found: false;
}

export interface ConsumerAnswer {
  readonly index: number;
  /** The server's history id: an index means something only with the epoch it came with. */
  readonly epoch?: string;
  readonly resync?: boolean;
  readonly registers: readonly (WireRegister | WireMissing)[];
}

export interface WireChangeRequest {
  readonly id: number;
  readonly name: string;
  readonly value: Json;
  readonly requestedAt: string;
  readonly requester?: string;
}

export interface ProviderAnswer {
  readonly index: number;
  readonly epoch?: string;
  /** The poll's `after` was ignored (another epoch): nothing was acknowledged. */
  readonly resync?: boolean;
  readonly requests: readonly WireChangeRequest[];
  /** Polled registers that do not exist on the server. */
  readonly missing?: readonly string[];
}

/** What a write returned for one register. */
export interface WriteResult {
  readonly name: string;
  /** False when the write changed neither value nor metadata (a TTL refresh). */
  readonly changed?: boolean;
  readonly version: number;
  readonly modRevision: number;
  readonly expiresAt: string | null;
}

export interface WriteAnswer {
  readonly index: number;
  readonly epoch?: string;
  readonly registers: readonly WriteResult[];
}

/** One register write; `ttl` re-arms the deadline, `ttl: 0` removes it, omitted keeps the current deadline. */
export interface RegisterWrite {
  readonly name: string;
  readonly value: Json;
  readonly metadata?: JsonObject | undefined;
  readonly ttl?: Duration | undefined;
  /** Compare-and-set: write only if the register is at this version (0: only if it does not exist). */
  readonly ifVersion?: number | undefined;
  /** Compare-and-set on the register's modRevision (0: only if it does not exist). */
  readonly ifModRevision?: number | undefined;
}

/** The conditions of set(), delete() and request(): the answer is a VersionConflictError when one fails. */
export interface Conditions {
  readonly ifVersion?: number | undefined;
  readonly ifModRevision?: number | undefined;
}

/** One change request of requestMany(). */
export interface RequestInput {
  readonly name: string;
  readonly value: Json;
  /** Who asks, as the provider will see it (`requester`). */
  readonly requester?: string | undefined;
  /** Idempotency key: retrying with the same key (same register) gets the first request's id back. */
  readonly requestKey?: string | undefined;
  /** How long the request may wait for the provider to poll (0 = forever; default: the server's --request-ttl). */
  readonly expiresIn?: Duration | undefined;
  /** Queue only if the register is still at this version (the state the caller saw). */
  readonly ifVersion?: number | undefined;
  readonly ifModRevision?: number | undefined;
}

export interface RequestReceipt {
  readonly id: number;
  readonly name: string;
}

/**
 * A queued change request. `outcome` (started on first access) settles with the request's final
 * outcome — the provider's `done`, `rejected` or `failed` (with its `result`/`message`), or
 * `expired`/`dropped` — long-polling GET /consumer/requests/<id>; it rejects when a call fails
 * (REQUEST_NOT_FOUND once the outcome is older than the server's request history) or is aborted.
 */
export interface RequestHandle extends RequestReceipt {
  readonly outcome: Promise<RequestOutcome>;
}

/** Options of a change request. */
export interface RequestOptions extends Conditions {
  readonly requester?: string | undefined;
  readonly expiresIn?: RequestInput["expiresIn"];
  readonly requestKey?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What became of a change request (GET /consumer/requests/<id>). */
export interface RequestOutcome {
  readonly id: number;
  readonly name: string;
  readonly status: "pending" | "delivered" | "done" | "rejected" | "failed" | "expired" | "dropped";
  readonly requestedAt: string;
  readonly requester?: string;
  readonly finishedAt?: string;
  readonly result?: Json;
  readonly message?: string;
}

export interface ListPage {
  readonly index: number;
  readonly registers: readonly WireRegister[];
  readonly cursor: string | null;
}

/** A register that exists, as a subscription yields it (`T`: the value's type, checked by a schema if given). */
export interface FoundItem<T = Json> {
  readonly name: string;
  readonly found: true;
  readonly value: T;
  readonly metadata: JsonObject;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly expiresAt: string | null;
  /** The global revision of the answer this state came from. */
  readonly index: number;
}

/** A register that does not exist (never created, deleted or expired). */
export interface MissingItem {
  readonly name: string;
  readonly found: false;
  readonly value: null;
  readonly metadata: null;
  readonly version: 0;
  readonly index: number;
}

export type ConsumeItem<T = Json> = FoundItem<T> | MissingItem;

/** A change request as a provider receives it. */
export interface ChangeRequest {
  readonly id: number;
  readonly name: string;
  readonly value: Json;
  /** ISO 8601 time at which the server queued the request. */
  readonly requestedAt: string;
  readonly requester?: string;
}

/** The timer functions the client uses; inject them to count or control timers in tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RetryOptions {
  /** First backoff ceiling in milliseconds (default 250). */
  readonly initialMs?: number | undefined;
  /** Largest backoff ceiling in milliseconds (default 30,000). */
  readonly maxMs?: number | undefined;
}

export interface ClientOptions {
  /** Base URL of the Switchboard server, e.g. "http://127.0.0.1:8080". */
  readonly url: string;
  /**
   * Sent as `Authorization: Bearer <token>`. A function is called for every request, so a token that
   * expires can be refreshed (it may return a promise).
   */
  readonly token?: string | (() => string | undefined | Promise<string | undefined>) | undefined;
  /** A fetch implementation (default: the global fetch). */
  readonly fetch?: typeof fetch | undefined;
  /** How long the server may hold the shared consumer long-poll (default "30s"). */
  readonly consumerWait?: Duration | undefined;
  /** How long the server may hold the shared provider long-poll (default "30s"). */
  readonly providerWait?: Duration | undefined;
  /** Capped exponential backoff with full jitter for network errors and 5xx answers. */
  readonly retry?: RetryOptions | undefined;
  /** How long membership changes are gathered before the shared polls restart (default 10 ms). */
  readonly debounceMs?: number | undefined;
  /** Aborting it closes the client. */
  readonly signal?: AbortSignal | undefined;
  /** Timer functions (default: the global setTimeout/clearTimeout). */
  readonly timers?: Timers | undefined;
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: (() => number) | undefined;
  /** A random number in [0, 1) for backoff jitter (default Math.random). */
  readonly random?: (() => number) | undefined;
}

/** GET /status: what runs where. */
export interface ServerStatus {
  readonly status: "ready" | "not_ready";
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly revision: number;
  readonly registers: number;
  readonly queuedRequests: number;
  readonly waiters: { readonly consumer: number; readonly provider: number; readonly stream: number };
  readonly storage: { readonly name: string; readonly healthy: boolean };
  readonly listeners: readonly {
    readonly protocol: string;
    readonly transport: string;
    readonly host: string;
    readonly port: number;
  }[];
}
