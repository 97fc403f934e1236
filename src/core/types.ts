// The core's data model: registers, change requests, events and the mutations that persist them.

import type { Json, JsonObject } from "@switchboard/wire";

export type { Json, JsonObject };

/** A named register. Objects of this type are immutable: a change makes a new object. */
export interface Register {
  readonly name: string;
  readonly value: Json;
  readonly metadata: JsonObject;
  /** Revision at which the register was (last) created. */
  readonly createRevision: number;
  /** Revision of the last change of value or metadata. */
  readonly modRevision: number;
  /** 1 at creation, +1 per change of value or metadata. */
  readonly version: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Absolute deadline in epoch milliseconds, or null for no TTL. */
  readonly expiresAt: number | null;
  /** The TTL (ms) that set the deadline, kept so a restart can grant a grace period; absent without TTL. */
  readonly ttlMs?: number;
}

export interface ChangeRequest {
  readonly id: number;
  readonly name: string;
  readonly value: Json;
  readonly requestedAt: number;
  readonly requester?: string;
  /** Epoch ms after which the request, if no provider poll has delivered it yet, leaves the queue. */
  readonly expiresAt?: number;
  /** The requester's idempotency key: a retry with the same key and register gets this request back. */
  readonly requestKey?: string;
  /** In snapshots only: epoch ms at which a provider poll first handed it out (it then no longer expires). */
  readonly deliveredAt?: number;
}

/** A request's final outcome, kept for the request history; persisted with the ack that produced it. */
export interface FinishedOutcome {
  readonly id: number;
  readonly name: string;
  readonly status: "done" | "rejected" | "failed" | "expired" | "dropped";
  readonly requestedAt: number;
  readonly requester?: string;
  readonly requestKey?: string;
  /** Epoch ms at which it became final. */
  readonly finishedAt: number;
  readonly result?: Json;
  readonly message?: string;
}

/** Why change requests left a queue: acknowledged by the provider, or dropped with the register. */
export type AckReason = "acknowledged" | "expired" | "deleted" | "request_expired";

export type SwitchboardEvent =
  | { readonly type: "set"; readonly name: string; readonly revision: number; readonly register: Register }
  | { readonly type: "delete"; readonly name: string; readonly revision: number }
  | { readonly type: "expire"; readonly name: string; readonly revision: number }
  | { readonly type: "request"; readonly name: string; readonly revision: number; readonly request: ChangeRequest }
  | {
      readonly type: "ack";
      readonly name: string;
      readonly revision: number;
      /** Every pending request of this register with id <= upTo left the queue (unless `ids` is given). */
      readonly upTo: number;
      /** Only these requests left the queue (undelivered requests whose expiresIn passed); upTo is their highest id. */
      readonly ids?: readonly number[];
      /** What the provider reported for some of them (PUT /provider/acks); the others are "done". */
      readonly outcomes?: readonly ReportedOutcome[];
      readonly reason: AckReason;
    };

/** A provider's report on one request it handled. */
export interface ReportedOutcome {
  readonly id: number;
  readonly status: "done" | "rejected" | "failed";
  readonly result?: Json;
  readonly message?: string;
}

export type EventType = SwitchboardEvent["type"];

/**
 * What is written to storage. Events carry a revision; a refresh moves a deadline only and has
 * none. Replaying mutations in order over a snapshot rebuilds the exact state.
 */
export type Mutation =
  | SwitchboardEvent
  | {
      readonly type: "refresh";
      readonly name: string;
      readonly expiresAt: number | null;
      /** The TTL behind the new deadline; absent when the deadline came from a grace period or was removed. */
      readonly ttlMs?: number;
    }
  | {
      /** The final outcomes an ack produced, written right after it: the request history survives a restart. */
      readonly type: "finish";
      readonly name: string;
      readonly outcomes: readonly FinishedOutcome[];
    }
  | {
      /** A provider poll handed these queued requests out (at epoch ms `at`): no revision, no event. */
      readonly type: "deliver";
      readonly name: string;
      readonly ids: readonly number[];
      readonly at: number;
    };

/** Mutations that carry a revision (and are events). */
export function isEvent(m: Mutation): m is SwitchboardEvent {
  return m.type !== "refresh" && m.type !== "deliver" && m.type !== "finish";
}

/** A point-in-time copy of the whole state, as persisted by compaction. */
export interface Snapshot {
  /** The data set's history id (see LoadResult.epoch); stores that keep it elsewhere may ignore it. */
  readonly epoch?: string;
  /** Highest revision contained. */
  readonly revision: number;
  /** Highest change-request id ever issued. */
  readonly lastRequestId: number;
  readonly registers: readonly Register[];
  readonly requests: readonly ChangeRequest[];
  /** Final outcomes still within the request history (absent in snapshots written before they were kept). */
  readonly outcomes?: readonly FinishedOutcome[];
}

/** One register write as the core receives it (already validated at the edge). */
export interface SetInput {
  readonly name: string;
  readonly value: Json;
  /** Replaces the metadata when given; kept as it is when omitted. */
  readonly metadata?: JsonObject;
  /** TTL in milliseconds; 0 or null removes the TTL; omitted keeps the current deadline policy. */
  readonly ttlMs?: number | null;
  /** Compare-and-set: apply only if the register's version is this (0: only if it does not exist). */
  readonly ifVersion?: number | undefined;
  /** Compare-and-set on the register's modRevision (0: only if it does not exist). */
  readonly ifModRevision?: number | undefined;
}

export interface RequestInput {
  readonly name: string;
  readonly value: Json;
  readonly requester?: string;
  /** Idempotency: while a request with this key for this register is known (queued or in the history), it is answered instead. */
  readonly requestKey?: string | undefined;
  /** How long the request waits for a provider poll, ms; 0 = forever; omitted: the server's request TTL. */
  readonly expiresInMs?: number | undefined;
  /** Queue only if the register is still at this version (the state the requester saw). */
  readonly ifVersion?: number | undefined;
  readonly ifModRevision?: number | undefined;
}

/** One register to delete, optionally only if it is still at a version. */
export interface DeleteInput {
  readonly name: string;
  readonly ifVersion?: number | undefined;
  readonly ifModRevision?: number | undefined;
}

/** A selection of registers: explicit names and/or prefixes. */
export interface Selector {
  readonly names?: readonly string[];
  readonly prefixes?: readonly string[];
}
