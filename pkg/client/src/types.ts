// Public types of @switchboard/client: JSON values, wire shapes of the REST API and the items the client yields.

import type { Duration, Json, JsonObject, RequestInput, RequestOutcome, RequestReceipt } from "@switchboard/wire";

// The wire shapes are declared once, in @switchboard/wire.
export type {
  AckInput,
  AcksAnswer,
  ConsumerAnswer,
  DeleteAnswer,
  Duration,
  Json,
  JsonObject,
  ListPage,
  ProviderAnswer,
  RegisterWrite,
  RequestInput,
  RequestOutcome,
  RequestReceipt,
  ServerStatus,
  WireChangeRequest,
  WireMissing,
  WireRegister,
  WriteAnswer,
  WriteResult,
} from "@switchboard/wire";

/** The conditions of set(), delete() and request(): the answer is a VersionConflictError when one fails. */
export interface Conditions {
  readonly ifVersion?: number | undefined;
  readonly ifModRevision?: number | undefined;
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

/** A register that exists, as a subscription yields it (`T`: the value's type, checked by a schema if given). */
export interface FoundItem<T = Json> {
  readonly name: string;
  readonly found: true;
  readonly value: T;
  readonly metadata: JsonObject;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  /** ISO 8601 times of the register's creation and last change. */
  readonly createdAt: string;
  readonly updatedAt: string;
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

/**
 * A change request as a provider receives it. Handling it without a report (the loop moves on,
 * `ack()`, `handle()`'s function resolves) acknowledges it as `done`. `done()`, `reject()` and
 * `fail()` report its outcome instead (PUT /provider/acks), while it is still in hand: they count
 * as handling it, the register stays out of the provider poll until the server has the report,
 * and a connection error is retried. Each answers the outcome the server recorded (the first one
 * wins: a request that expired or was dropped meanwhile answers that); a second report, or one
 * after the request was handled, rejects with ClientError `ALREADY_HANDLED` and sends nothing.
 * The promises never count as unhandled rejections: await them to learn the outcome.
 */
export interface ChangeRequest {
  readonly id: number;
  readonly name: string;
  readonly value: Json;
  /** ISO 8601 time at which the server queued the request. */
  readonly requestedAt: string;
  readonly requester?: string;
  /** Reports `done`, with an optional JSON `result` for the app (its `outcome.result`). */
  done(result?: Json): Promise<RequestOutcome>;
  /** Reports `rejected`: the request was not carried out on purpose (`message`: why, up to 1,024 characters). */
  reject(message?: string, result?: Json): Promise<RequestOutcome>;
  /** Reports `failed`: carrying it out went wrong (`message`: what, up to 1,024 characters). */
  fail(message?: string, result?: Json): Promise<RequestOutcome>;
}

/** What a provider reports for a request (`ChangeRequest.done/reject/fail`). */
export type ReportStatus = "done" | "rejected" | "failed";

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
  /**
   * Base URL of the Switchboard server, e.g. "http://127.0.0.1:8080", or the URLs of several nodes of
   * a cluster: the client uses one at a time and moves to the next after a connection failure or a
   * 503 that another node may not give (NO_WRITER, NOT_WRITER, SHUTTING_DOWN, NOT_READY,
   * STORAGE_UNAVAILABLE); the retry then goes there.
   */
  readonly url: string | readonly string[];
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
