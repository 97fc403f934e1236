// The JSON shapes of the HTTP API, declared once: the server's answers are typed by them and the client reads them.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A duration as the server reads it: a number of seconds, or a string such as "500ms", "30s", "5m", "1h". */
export type Duration = number | string;

/** What every answer about the register space carries: the global revision and the data set's history id. */
export interface Indexed {
  readonly index: number;
  /** The server's history id: an index means something only with the epoch it came with. */
  readonly epoch?: string;
}

/** A pending change request shown next to its register (GET /consumer?pending=true). */
export interface WirePending {
  readonly id: number;
  readonly value: Json;
  readonly requestedAt: string;
  readonly requester?: string;
  readonly expiresAt?: string;
}

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
  /** With `pending=true`: the register's pending change requests, oldest first. */
  readonly pending?: readonly WirePending[];
}

export interface WireMissing {
  readonly name: string;
  readonly found: false;
  readonly pending?: readonly WirePending[];
}

/** GET /consumer. */
export interface ConsumerAnswer extends Indexed {
  readonly resync?: boolean;
  readonly registers: readonly (WireRegister | WireMissing)[];
}

/** A change request as GET /provider delivers it. */
export interface WireChangeRequest {
  readonly id: number;
  readonly name: string;
  readonly value: Json;
  readonly requestedAt: string;
  readonly requester?: string;
  /** When the request leaves the queue if no provider poll has delivered it (absent: never). */
  readonly expiresAt?: string;
}

/** GET /provider. */
export interface ProviderAnswer extends Indexed {
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

/** PUT /provider. */
export interface WriteAnswer extends Indexed {
  readonly registers: readonly WriteResult[];
}

/** DELETE /provider: the names that existed and are gone. */
export interface DeleteAnswer extends Indexed {
  readonly deleted: readonly string[];
}

/** One register write; `ttl` re-arms the deadline, `ttl: 0` or `null` removes it, omitted keeps the current deadline. */
export interface RegisterWrite {
  readonly name: string;
  readonly value: Json;
  readonly metadata?: JsonObject | undefined;
  readonly ttl?: Duration | null | undefined;
  /** Compare-and-set: write only if the register is at this version (0: only if it does not exist). */
  readonly ifVersion?: number | undefined;
  /** Compare-and-set on the register's modRevision (0: only if it does not exist). */
  readonly ifModRevision?: number | undefined;
}

/** One change request of PUT /consumer. */
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

/** PUT /consumer (202). */
export interface RequestAnswer extends Indexed {
  readonly requests: readonly RequestReceipt[];
}

export type OutcomeStatus = "pending" | "delivered" | "done" | "rejected" | "failed" | "expired" | "dropped";

/** What became of a change request (GET /consumer/requests/<id>). */
export interface RequestOutcome {
  readonly id: number;
  readonly name: string;
  readonly status: OutcomeStatus;
  readonly requestedAt: string;
  readonly requester?: string;
  readonly finishedAt?: string;
  readonly result?: Json;
  readonly message?: string;
}

/** One outcome a provider reports (PUT /provider/acks). */
export interface AckInput {
  readonly id: number;
  readonly status: "done" | "rejected" | "failed";
  readonly result?: Json | undefined;
  readonly message?: string | undefined;
}

/** PUT /provider/acks: each id's outcome now, or `unknown` for an id the server does not know. */
export interface AcksAnswer extends Indexed {
  readonly acks: readonly (RequestOutcome | { readonly id: number; readonly status: "unknown" })[];
}

/** GET /registers: a page of a prefix listing. */
export interface ListPage extends Indexed {
  readonly registers: readonly WireRegister[];
  readonly cursor: string | null;
}

/** A message of GET /events (the SSE `data:` line; the SSE `event:` is its type, the `id:` its revision). */
export type WireEvent = (
  | { readonly type: "set"; readonly name: string; readonly revision: number; readonly register: WireRegister }
  | { readonly type: "delete" | "expire"; readonly name: string; readonly revision: number }
  | { readonly type: "request"; readonly name: string; readonly revision: number; readonly request: WireChangeRequest }
  | {
      readonly type: "ack";
      readonly name: string;
      readonly revision: number;
      readonly upTo: number;
      readonly ids?: readonly number[];
      readonly outcomes?: readonly AckInput[];
      readonly reason: "acknowledged" | "expired" | "deleted" | "request_expired";
    }
  | {
      readonly type: "outcome";
      readonly name: string;
      readonly revision: number;
      readonly id: number;
      readonly status: OutcomeStatus;
      readonly result?: Json;
      readonly message?: string;
    }
) & { readonly epoch: string };

/** GET /status: what runs where. */
export interface ServerStatus {
  readonly status: "ready" | "not_ready";
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly revision: number;
  readonly epoch?: string;
  readonly registers: number;
  readonly queuedRequests: number;
  readonly waiters: { readonly consumer: number; readonly provider: number; readonly stream: number };
  readonly storage: { readonly name: string; readonly healthy: boolean };
  readonly listeners: readonly {
    readonly protocol: string;
    readonly transport: "http" | "tcp" | "udp" | "ws" | "zmq";
    readonly host: string;
    readonly port: number;
  }[];
}
