// The core engine: validated writes committed through the group committer, reads, long-poll waits, TTL sweeps.

import { DEFAULT_LIMITS as WIRE_LIMITS } from "@switchboard/wire";
import { systemClock } from "./clock.js";
import { GroupCommitter } from "./committer.js";
import { assertCondition, checkConditions } from "./conditions.js";
import { isSwitchboardError, SwitchboardError } from "./errors.js";
import { EventRing } from "./event-ring.js";
import { inspectJson, jsonEqual, jsonSize } from "./json.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { assertName, assertPrefix } from "./names.js";
import { type Outcome, type OutcomeStatus, OutcomeStore, statusOfReason } from "./outcomes.js";
import {
  type ConsumerPollResult,
  consumerPoll,
  type HeldPoll,
  holdConsumerPoll,
  holdProviderPoll,
  type PollOptions,
  type ProviderPollResult,
  providerPoll,
} from "./polls.js";
import type { Clock, ForwardedWrite, Persistence, TimerHandle } from "./ports.js";
import { RequestDeadlines } from "./request-expiry.js";
import { KeyedMutex } from "./rwlock.js";
import { RegisterState } from "./state.js";
import {
  type AckReason,
  type ChangeRequest,
  type DeleteInput,
  type FinishedOutcome,
  isEvent,
  type Json,
  type JsonObject,
  type Mutation,
  type Register,
  type ReportedOutcome,
  type RequestInput,
  type Selector,
  type SetInput,
  type Snapshot,
  type SwitchboardEvent,
} from "./types.js";
import { DeadlineWheel, settle, type Waiter, WaiterIndex, type WaitOutcome } from "./waiters.js";
import { matcher, Watch, type WatchOptions } from "./watch.js";
import { type Where, WhereMemo } from "./where.js";

export interface SwitchboardOptions {
  readonly persistence: Persistence;
  readonly clock?: Clock;
  readonly limits?: Partial<Limits>;
  /** Events kept for resuming watches (default 100,000). */
  readonly eventRingSize?: number;
  /** How often expired registers are swept, ms (default 1,000). Expiry precision is this interval. */
  readonly sweepIntervalMs?: number;
  /** Told about failures that have no caller to answer (background sweeps, compactions, listeners). */
  readonly onError?: (err: unknown, context: string) => void;
  /**
   * Lease grace on start, ms: every TTL deadline becomes at least now + min(the register's TTL,
   * this), so registers whose deadline passed while the server was down get a chance to be
   * refreshed before they expire. Omitted: the register's own TTL. 0: no grace.
   */
  readonly ttlGraceMs?: number;
  /** How long a change request waits for delivery when it names no expiresIn, ms (default 5 min; 0 = forever). */
  readonly requestTtlMs?: number;
  /** How long a request's final outcome is kept for GET /consumer/requests/<id>, ms (default 10 min). */
  readonly requestHistoryMs?: number;
  /**
   * How long a poll whose index (or provider `after`) is ahead of this node waits for the node to
   * apply it before answering resync, ms (default 0). A cluster member uses about 1 s: a client that
   * switched node may be ahead of this node's tail by a few milliseconds.
   */
  readonly aheadWaitMs?: number;
}

/** The largest page a listing returns, whatever the caller asks. */
export const MAX_PAGE: number = WIRE_LIMITS.maxPage;

export interface SetResult {
  readonly register: Register;
  /** False when the write changed neither value nor metadata (no revision, no event). */
  readonly changed: boolean;
}

export type WaitKind = "consumer" | "provider";

const TIMEOUT: WaitOutcome = { reason: "timeout" };
const NO_CHANGES: Changes = { changed: false, resync: false, removed: [], touched: [] };

/** Waiters woken by one change and answered synchronously; the rest follow in chunks of WAKE_CHUNK, one per macrotask. */
const SYNC_WAKES = 64;
const WAKE_CHUNK = 512;
/** A follower's delivery mark is sent again every MARK_RETRY_MS while no node writes, MARK_TRIES times in all (~30 s). */
const MARK_RETRY_MS = 250;
const MARK_TRIES = 120;

/** What changed for a selection since an index (see Switchboard's changesSince). */
export interface Changes {
  readonly changed: boolean;
  readonly resync: boolean;
  /** Watched registers removed since the index and absent now. */
  readonly removed: string[];
  /** Every watched register whose state (or, with requests, queue) changed since the index, in name order. */
  readonly touched: string[];
}

export interface WaitRequest {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Consumer waits only: also wake on the selection's change requests arriving or leaving the queue. */
  readonly requests?: boolean | undefined;
  /** Wake only for changes whose register matches (see where.ts); queue wakes are filtered alike. */
  readonly where?: Where | undefined;
}

/** What a held wait needs: WaitRequest without the signal (the holder ends it). */
export type HoldRequest = Omit<WaitRequest, "signal">;

/**
 * The engine's internals for the rest of src/core (the polls) and its unit tests: not part of the
 * surface protocols use (core/index.ts does not export it). Set by the class's static block.
 */
export interface Internals {
  wait(sb: Switchboard, kind: WaitKind, selector: Selector, req: WaitRequest): Promise<WaitOutcome>;
  hold(
    sb: Switchboard,
    kind: WaitKind,
    selector: Selector,
    req: HoldRequest,
    onOutcome: (o: WaitOutcome) => void,
  ): Waiter | WaitOutcome;
  changesSince(sb: Switchboard, selector: Selector, index: number, withRequests?: boolean, where?: Where): Changes;
}

export let internals: Internals;

export class Switchboard {
  static {
    internals = {
      wait: (sb, kind, selector, req) => sb.#wait(kind, selector, req),
      hold: (sb, kind, selector, req, onOutcome) => sb.#hold(kind, selector, req, onOutcome),
      changesSince: (sb, selector, index, withRequests, where) =>
        sb.#changesSince(selector, index, withRequests, where),
    };
  }

  readonly clock: Clock;
  readonly limits: Limits;
  readonly persistence: Persistence;
  #state: RegisterState;
  #ring: EventRing;
  readonly #committer: GroupCommitter;
  readonly #locks = new KeyedMutex();
  readonly #waiters = { consumer: new WaiterIndex(), provider: new WaiterIndex() };
  /** Consumer waiters that also watch the queue (pending=true); each is in #waiters.consumer too. */
  readonly #queueWatchers = new WaiterIndex();
  /**
   * Consumer waiters with a filter (where): matched on every change of what they watch and left in
   * place when the change does not match, so they are not taken out whole like the others.
   */
  readonly #filtered = new WaiterIndex();
  /** Filtered consumer waiters that also watch the queue; each is in #filtered too. */
  readonly #filteredQueue = new WaiterIndex();
  readonly #listeners = new Set<(e: SwitchboardEvent) => void>();
  /** Enders of open watch streams: they count against maxWaiters and end on close. */
  readonly #streams = new Set<() => void>();
  /** Enders of clients fed by a shared watch (SSE hub): they count against maxWaiters and end on close. */
  readonly #subscribers = new Set<() => void>();
  /** One clock timer for every held wait's deadline. */
  readonly #deadlines: DeadlineWheel<Waiter>;
  readonly #sweepIntervalMs: number;
  readonly #requestTtlMs: number;
  #requestDeadlines = new RequestDeadlines();
  readonly #outcomes: OutcomeStore;
  readonly #where = new WhereMemo();
  readonly #onError: (err: unknown, context: string) => void;
  readonly #aheadWaitMs: number;
  /** Called after every apply: polls waiting for this node to catch up with a client's index. */
  readonly #appliedWaiters = new Set<() => void>();
  #nextRevision: number;
  #nextRequestId: number;
  #sweepTimer: TimerHandle | undefined;
  #sweeping: Promise<number> | undefined;
  #closing = false;
  /** Delivery marks waiting to be forwarded again (a follower during a failover). */
  readonly #markRetries = new Set<TimerHandle>();
  #compacting = false;
  readonly #ttlGraceMs: number | undefined;
  /** Whether this node granted the lease grace since it last became the writer (a cluster member becomes it later). */
  #graced = false;

  private constructor(options: SwitchboardOptions, state: RegisterState, finished: Iterable<FinishedOutcome> = []) {
    this.clock = options.clock ?? systemClock;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.persistence = options.persistence;
    this.#state = state;
    this.#ring = new EventRing(options.eventRingSize ?? 100_000);
    this.#ring.forgetUpTo(state.revision);
    this.#committer = new GroupCommitter(options.persistence);
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 1000;
    this.#requestTtlMs = options.requestTtlMs ?? 300_000;
    this.#ttlGraceMs = options.ttlGraceMs;
    this.#outcomes = new OutcomeStore(this.clock, options.requestHistoryMs ?? 600_000);
    this.#outcomes.restore(finished);
    for (const q of state.queues.values()) {
      for (const r of q) {
        this.#requestDeadlines.add(r);
        const delivered = state.delivered.has(r.id);
        if (delivered) this.#requestDeadlines.delivered([r]);
        this.#outcomes.queued(r, delivered);
      }
    }
    this.#onError = options.onError ?? (() => undefined);
    this.#aheadWaitMs = options.aheadWaitMs ?? 0;
    this.#deadlines = new DeadlineWheel<Waiter>(this.clock, (due) => {
      const batch: [Waiter, WaitOutcome][] = [];
      for (const w of due) if (w.detach()) batch.push([w, TIMEOUT]);
      this.#deliver(batch);
    });
    this.#nextRevision = state.revision;
    this.#nextRequestId = state.lastRequestId;
  }

  /**
   * Loads the persisted state, grants the lease grace to deadlines that passed (or are near) while
   * the server was down, expires what is still due, and starts the TTL sweep.
   */
  static async open(options: SwitchboardOptions): Promise<Switchboard> {
    const loaded = await options.persistence.load();
    if (typeof loaded.epoch !== "string" || loaded.epoch.length === 0) {
      throw new SwitchboardError("STORAGE_CORRUPT", `the ${options.persistence.name} store loaded no epoch`);
    }
    const state = loaded.snapshot ? RegisterState.fromSnapshot(loaded.snapshot) : new RegisterState();
    // The request history: the snapshot's, then every outcome an ack of the tail made final.
    const finished = new Map((loaded.snapshot?.outcomes ?? []).map((o) => [o.id, o]));
    for (const m of loaded.tail) {
      if (m.type === "finish") for (const o of m.outcomes) finished.set(o.id, o);
      state.apply(m);
    }
    state.epoch = loaded.epoch;
    const sb = new Switchboard(options, state, finished.values());
    options.persistence.serveForwarded?.((call) => sb.#runForwarded(call));
    await sb.#grantGrace();
    await sb.sweep();
    sb.#scheduleSweep();
    return sb;
  }

  /** The history id of the loaded data set: indexes, `after`s and cursors mean something only within it. */
  get epoch(): string {
    return this.#state.epoch;
  }

  /** True when `epoch` was given and names another history than this one. */
  isForeignEpoch(epoch: string | undefined): boolean {
    return epoch !== undefined && epoch !== "" && epoch !== this.#state.epoch;
  }

  /** The highest change-request id handed out so far. */
  get lastRequestId(): number {
    return this.#nextRequestId;
  }

  /** The global revision: the last change applied and visible. */
  get revision(): number {
    return this.#state.revision;
  }
  get closing(): boolean {
    return this.#closing;
  }

  /** The store's name (memory, file, mongo, …). */
  get storageName(): string {
    return this.persistence.name;
  }

  /** False while the store cannot take writes. */
  storageHealthy(): boolean {
    return this.persistence.isHealthy?.() ?? true;
  }

  stats(): {
    registers: number;
    revision: number;
    queuedRequests: number;
    waiters: Record<WaitKind | "stream", number>;
    /** Clients fed by a shared watch stream (each shared watch is one in waiters.stream). */
    subscribers: number;
    events: number;
    commits: number;
    deadlines: number;
    whereEvaluations: number;
  } {
    return {
      registers: this.#state.registers.size,
      revision: this.#state.revision,
      queuedRequests: this.#state.queuedRequests,
      waiters: {
        consumer: this.#waiters.consumer.size + this.#filtered.size,
        provider: this.#waiters.provider.size,
        stream: this.#streams.size,
      },
      subscribers: this.#subscribers.size,
      events: this.#ring.size,
      commits: this.#committer.commits,
      deadlines: this.#state.deadlines.size,
      whereEvaluations: this.#where.evaluations,
    };
  }

  // ---------------------------------------------------------------- writes

  /** Sets or refreshes registers, all or nothing. */
  async set(inputs: readonly SetInput[]): Promise<SetResult[]> {
    if (this.#forwards()) return (await this.#forward("set", [inputs])) as SetResult[];
    return this.#set(inputs);
  }

  async #set(inputs: readonly SetInput[]): Promise<SetResult[]> {
    this.#writable();
    this.#checkBatch(inputs.length);
    const names = new Set<string>();
    for (const i of inputs) {
      assertName(i.name);
      if (names.has(i.name))
        throw new SwitchboardError("DUPLICATE_NAME", `register ${i.name} appears twice in one batch`);
      names.add(i.name);
      this.#checkJson("VALUE_TOO_LARGE", "value", i.name, i.value, this.limits.maxValueBytes);
      if (i.metadata !== undefined) {
        this.#checkJson("METADATA_TOO_LARGE", "metadata", i.name, i.metadata, this.limits.maxMetadataBytes);
      }
      if (i.ttlMs !== undefined) this.#checkTtl(i.name, i.ttlMs);
      assertCondition(i.name, i);
    }
    return this.#locked(names, () => {
      checkConditions(inputs, (n) => this.#state.registers.get(n));
      const now = this.clock.now();
      const mutations: Mutation[] = [];
      const results: SetResult[] = [];
      for (const i of inputs) {
        const old = this.#state.registers.get(i.name);
        const expiresAt =
          i.ttlMs === undefined ? (old?.expiresAt ?? null) : i.ttlMs === null || i.ttlMs === 0 ? null : now + i.ttlMs;
        const ttlMs = expiresAt === null ? undefined : i.ttlMs === undefined ? old?.ttlMs : (i.ttlMs ?? undefined);
        const ttl = ttlMs === undefined ? {} : { ttlMs };
        const metadata = i.metadata ?? old?.metadata ?? {};
        if (old && jsonEqual(old.value, i.value) && jsonEqual(old.metadata, metadata)) {
          if (old.expiresAt !== expiresAt || old.ttlMs !== ttlMs) {
            mutations.push({ type: "refresh", name: i.name, expiresAt, ...ttl });
          }
          const { ttlMs: _old, ...rest } = old;
          results.push({ register: { ...rest, expiresAt, ...ttl }, changed: false });
          continue;
        }
        const revision = ++this.#nextRevision;
        const register: Register = {
          name: i.name,
          value: i.value,
          metadata,
          createRevision: old ? old.createRevision : revision,
          modRevision: revision,
          version: old ? old.version + 1 : 1,
          createdAt: old ? old.createdAt : now,
          updatedAt: now,
          expiresAt,
          ...ttl,
        };
        mutations.push({ type: "set", name: i.name, revision, register });
        results.push({ register, changed: true });
      }
      return { mutations, result: results };
    });
  }

  /**
   * Renews a register's TTL without touching value or metadata: no revision, no event, no wake-up
   * (a lease heartbeat). Unlike a set with the current value, it cannot undo a write that raced
   * it, because it reads nothing outside the guard. REGISTER_NOT_FOUND when the register is absent.
   */
  async touch(name: string, ttlMs: number | null): Promise<Register> {
    if (this.#forwards()) return (await this.#forward("touch", [name, ttlMs])) as Register;
    return this.#touch(name, ttlMs);
  }

  async #touch(name: string, ttlMs: number | null): Promise<Register> {
    this.#writable();
    assertName(name);
    this.#checkTtl(name, ttlMs);
    return this.#locked([name], () => {
      const old = this.#state.registers.get(name);
      if (!old) throw notFound(name);
      const expiresAt = ttlMs === null || ttlMs === 0 ? null : this.clock.now() + ttlMs;
      const mutations: Mutation[] = old.expiresAt === expiresAt ? [] : [{ type: "refresh", name, expiresAt }];
      return { mutations, result: { ...old, expiresAt } };
    });
  }

  /**
   * Sets (or, with undefined, removes) some metadata keys of an existing register, keeping its
   * value, the other keys and its deadline. Read-modify-write under the register's guard, so
   * writers that publish different keys (a provider's own metadata, a health checker's `health`)
   * never overwrite each other. A patch that changes nothing commits nothing.
   */
  async patchMetadata(name: string, patch: Readonly<Record<string, Json | undefined>>): Promise<SetResult> {
    if (this.#forwards()) {
      // JSON drops undefined (a removal): the removed keys travel as a list.
      const set: Record<string, Json> = {};
      const remove: string[] = [];
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) remove.push(k);
        else set[k] = v;
      }
      return (await this.#forward("patchMetadata", [name, set, remove])) as SetResult;
    }
    return this.#patchMetadata(name, patch);
  }

  async #patchMetadata(name: string, patch: Readonly<Record<string, Json | undefined>>): Promise<SetResult> {
    this.#writable();
    assertName(name);
    return this.#locked<SetResult>([name], () => {
      const old = this.#state.registers.get(name);
      if (!old) throw notFound(name);
      const metadata: JsonObject = { ...old.metadata };
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete metadata[k];
        else metadata[k] = v;
      }
      if (jsonEqual(old.metadata, metadata)) return { mutations: [], result: { register: old, changed: false } };
      this.#checkJson("METADATA_TOO_LARGE", "metadata", name, metadata, this.limits.maxMetadataBytes);
      const revision = ++this.#nextRevision;
      const register: Register = {
        ...old,
        metadata,
        modRevision: revision,
        version: old.version + 1,
        updatedAt: this.clock.now(),
      };
      return { mutations: [{ type: "set", name, revision, register }], result: { register, changed: true } };
    });
  }

  /**
   * Deletes registers (unknown names are ignored) and drops their pending change requests. Items
   * with ifVersion/ifModRevision make the batch conditional: any failed condition deletes nothing.
   */
  async delete(items: readonly (string | DeleteInput)[]): Promise<string[]> {
    if (this.#forwards()) return (await this.#forward("delete", [items])) as string[];
    return this.#delete(items);
  }

  async #delete(items: readonly (string | DeleteInput)[]): Promise<string[]> {
    this.#writable();
    this.#checkBatch(items.length);
    const inputs: DeleteInput[] = items.map((i) => (typeof i === "string" ? { name: i } : i));
    for (const i of inputs) {
      assertName(i.name);
      assertCondition(i.name, i);
    }
    const names = inputs.map((i) => i.name);
    return this.#locked(names, () => {
      checkConditions(inputs, (n) => this.#state.registers.get(n));
      const mutations: Mutation[] = [];
      const deleted: string[] = [];
      for (const name of new Set(names)) {
        if (!this.#state.registers.has(name)) continue;
        this.#dropRequests(name, "deleted", mutations);
        mutations.push({ type: "delete", name, revision: ++this.#nextRevision });
        deleted.push(name);
      }
      return { mutations, result: deleted };
    });
  }

  /** Queues change requests for providers, all or nothing. */
  async request(inputs: readonly RequestInput[]): Promise<ChangeRequest[]> {
    if (this.#forwards()) return (await this.#forward("request", [inputs])) as ChangeRequest[];
    return this.#request(inputs);
  }

  async #request(inputs: readonly RequestInput[]): Promise<ChangeRequest[]> {
    this.#writable();
    this.#checkBatch(inputs.length);
    for (const i of inputs) {
      assertName(i.name);
      this.#checkJson("VALUE_TOO_LARGE", "value", i.name, i.value, this.limits.maxValueBytes);
      assertCondition(i.name, i);
      if (i.expiresInMs !== undefined) this.#checkTtl(i.name, i.expiresInMs);
      if (i.requestKey !== undefined && (i.requestKey.length === 0 || i.requestKey.length > 128)) {
        throw new SwitchboardError("INVALID_BODY", `requestKey of ${i.name} must be 1 to 128 characters`);
      }
    }
    return this.#locked(
      inputs.map((i) => i.name),
      () => {
        const now = this.clock.now();
        const added = new Map<string, number>();
        // A retry of a request still known by its key answers that request and is checked no further.
        const earlier = inputs.map((i) =>
          i.requestKey === undefined ? undefined : this.#outcomes.byKey(i.name, i.requestKey),
        );
        const fresh = inputs.filter((_, n) => earlier[n] === undefined);
        // Conditions first: a request conditioned on a gone register is a conflict (version 0), not a 404.
        checkConditions(fresh, (n) => this.#state.registers.get(n));
        for (const i of fresh) {
          if (!this.#state.registers.has(i.name)) {
            throw notFound(i.name);
          }
          const n = (added.get(i.name) ?? 0) + 1;
          added.set(i.name, n);
          if ((this.#state.queues.get(i.name)?.length ?? 0) + n > this.limits.maxQueue) {
            throw new SwitchboardError("QUEUE_FULL", `the change-request queue of ${i.name} is full`, {
              details: { name: i.name, limit: this.limits.maxQueue },
              retryAfter: 1,
            });
          }
        }
        const mutations: Mutation[] = [];
        const requests: ChangeRequest[] = [];
        const inBatch = new Map<string, ChangeRequest>();
        for (const [n, i] of inputs.entries()) {
          const known = earlier[n];
          const key = i.requestKey === undefined ? undefined : `${i.name}\0${i.requestKey}`;
          const same = key === undefined ? undefined : inBatch.get(key);
          if (known !== undefined || same !== undefined) {
            const queued = this.#state.queues.get(i.name)?.find((q) => q.id === known?.id);
            requests.push(
              same ?? queued ?? { id: known!.id, name: i.name, value: i.value, requestedAt: known!.requestedAt },
            );
            continue;
          }
          const ttl = i.expiresInMs ?? this.#requestTtlMs;
          const request: ChangeRequest = {
            id: ++this.#nextRequestId,
            name: i.name,
            value: i.value,
            requestedAt: now,
            ...(i.requester === undefined ? {} : { requester: i.requester }),
            ...(ttl > 0 ? { expiresAt: now + ttl } : {}),
            ...(i.requestKey === undefined ? {} : { requestKey: i.requestKey }),
          };
          if (key !== undefined) inBatch.set(key, request);
          mutations.push({ type: "request", name: i.name, revision: ++this.#nextRevision, request });
          requests.push(request);
        }
        return { mutations, result: requests };
      },
    );
  }

  /** Drops (acknowledges) the selected registers' requests with id <= after. */
  async acknowledge(selector: Selector, after: number): Promise<number> {
    const names = this.#queuedNames(selector).filter((n) => (this.#state.queues.get(n)?.[0]?.id ?? Infinity) <= after);
    if (names.length === 0) return 0;
    if (this.#forwards()) return (await this.#forward("acknowledge", [selector, after])) as number;
    return this.#acknowledge(selector, after);
  }

  async #acknowledge(selector: Selector, after: number): Promise<number> {
    const names = this.#queuedNames(selector).filter((n) => (this.#state.queues.get(n)?.[0]?.id ?? Infinity) <= after);
    if (names.length === 0) return 0;
    this.#writable();
    return this.#locked(names, () => {
      const mutations: Mutation[] = [];
      let dropped = 0;
      for (const name of names) {
        const q = this.#state.queues.get(name);
        if (!q || q[0]!.id > after) continue;
        // The ids make each request's outcome visible to event readers (an outcome per id).
        const ids = q.filter((r) => r.id <= after).map((r) => r.id);
        dropped += ids.length;
        const revision = ++this.#nextRevision;
        const outcomes = this.#finishing(name, ids, "acknowledged");
        mutations.push({ type: "ack", name, revision, upTo: after, ids, reason: "acknowledged" });
        mutations.push({ type: "finish", name, outcomes });
      }
      return { mutations, result: dropped };
    });
  }

  /** Expires every register whose deadline passed. Returns how many expired. */
  sweep(): Promise<number> {
    if (this.#sweeping) return this.#sweeping;
    const run = async (): Promise<number> => {
      // Only the writer expires registers (once, for every node); followers see its expire events.
      if (!this.#isWriter()) {
        this.#graced = false;
        return 0;
      }
      // A cluster member that just became the writer: deadlines that passed during the failover get the grace first.
      if (!this.#graced) await this.#grantGrace();
      const due = this.#state.deadlines.due(this.clock.now(), this.limits.maxBatch * 10);
      if (due.length === 0) return 0;
      return this.#locked(due, () => {
        const now = this.clock.now();
        const mutations: Mutation[] = [];
        let expired = 0;
        for (const name of due) {
          const r = this.#state.registers.get(name);
          if (!r || r.expiresAt === null || r.expiresAt > now) continue; // refreshed meanwhile
          this.#dropRequests(name, "expired", mutations);
          mutations.push({ type: "expire", name, revision: ++this.#nextRevision });
          expired++;
        }
        return { mutations, result: expired };
      });
    };
    const runAll = async (): Promise<number> => {
      const expired = await run();
      await this.#expireRequests();
      return expired;
    };
    this.#sweeping = runAll().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /**
   * Applies mutations another node committed to a shared store (a cluster follower tailing the
   * writer's log), through the same apply as local writes: state, event ring, waiters and
   * listeners see them exactly as if written here. Entries at or below the current revision were
   * applied already and are skipped. The caller must not call it while this node commits writes of
   * its own (a follower refuses them with NOT_WRITER). The counters follow the applied state, so a
   * follower that becomes the writer continues the revisions without a gap.
   */
  applyReplicated(mutations: readonly Mutation[]): void {
    const fresh = mutations.filter((m) => !isEvent(m) || m.revision > this.#state.revision);
    if (fresh.length > 0) this.#apply(fresh);
    this.#nextRevision = this.#state.revision;
    this.#nextRequestId = this.#state.lastRequestId;
  }

  /**
   * Replaces the state by a snapshot another node wrote (a cluster member whose tail found a gap:
   * the entries it missed were purged from the log). Every held long-poll wakes and every event
   * stream ends, so their clients come back and resync: the events between the old and the new
   * revision are not known here. Change requests and their outcomes are rebuilt from the snapshot.
   */
  replaceReplicated(snapshot: Snapshot): void {
    if (snapshot.revision < this.#state.revision) return;
    const state = RegisterState.fromSnapshot(snapshot);
    state.epoch = this.#state.epoch;
    this.#state = state;
    this.#ring = new EventRing(this.#ring.capacity);
    this.#ring.forgetUpTo(state.revision);
    this.#requestDeadlines = new RequestDeadlines();
    for (const q of state.queues.values()) {
      for (const r of q) {
        this.#requestDeadlines.add(r);
        const delivered = state.delivered.has(r.id);
        if (delivered) this.#requestDeadlines.delivered([r]);
        this.#outcomes.queued(r, delivered);
      }
    }
    this.#nextRevision = state.revision;
    this.#nextRequestId = state.lastRequestId;
    // Woken as by a timeout: each answers from the new state (consumers see resync: the ring no longer covers them).
    for (const idx of [this.#waiters.consumer, this.#waiters.provider, this.#queueWatchers, this.#filtered]) {
      for (const w of idx.all()) settle(w, TIMEOUT);
    }
    for (const end of [...this.#streams]) end();
    for (const end of [...this.#subscribers]) end();
    for (const done of [...this.#appliedWaiters]) done();
  }

  /**
   * Waits, up to aheadWaitMs (0 outside a cluster), until this node applied revision `index` and
   * request id `requestId`: a client that read from a node further ahead sees that state here
   * instead of a resync. Resolves either way; the caller then looks at the revision again.
   */
  async catchUp(index: number, requestId = 0): Promise<void> {
    const behind = () => this.#state.revision < index || this.#state.lastRequestId < requestId;
    if (this.#aheadWaitMs <= 0 || !behind()) return;
    const until = this.clock.now() + this.#aheadWaitMs;
    while (behind() && !this.#closing) {
      const left = until - this.clock.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.clock.clearTimeout(timer);
          this.#appliedWaiters.delete(done);
          resolve();
        };
        const timer = this.clock.setTimeout(done, left);
        this.#appliedWaiters.add(done);
      });
    }
  }

  /** Drops undelivered change requests whose expiresAt passed, each register's in one ack event. */
  async #expireRequests(): Promise<void> {
    const due = this.#requestDeadlines.due(this.clock.now(), this.limits.maxBatch * 10);
    if (due.size === 0) return;
    await this.#locked(due.keys(), () => {
      const now = this.clock.now();
      const mutations: Mutation[] = [];
      for (const [name, candidates] of due) {
        const queued = new Map((this.#state.queues.get(name) ?? []).map((r) => [r.id, r]));
        const ids = candidates.filter((id) => {
          const r = queued.get(id);
          // Delivered meanwhile (a poll ran while this sweep waited for the guard) or already gone: not expired.
          return r?.expiresAt !== undefined && r.expiresAt <= now && !this.#requestDeadlines.isDelivered(id);
        });
        if (ids.length === 0) continue;
        const revision = ++this.#nextRevision;
        const outcomes = this.#finishing(name, ids, "request_expired");
        mutations.push({ type: "ack", name, revision, upTo: ids[ids.length - 1]!, ids, reason: "request_expired" });
        mutations.push({ type: "finish", name, outcomes });
      }
      return { mutations, result: undefined };
    });
  }

  /** Marks requests a provider poll handed out: delivered requests no longer expire. */
  markDelivered(requests: readonly ChangeRequest[]): void {
    const first = requests.filter((r) => this.#outcomes.get(r.id)?.status === "pending");
    this.#requestDeadlines.delivered(requests);
    this.#outcomes.delivered(requests.map((r) => r.id));
    // Persisted without holding the poll's answer: delivery is at least once, and a mark lost to a
    // crash only means the request counts as undelivered again (as it did before marks were kept).
    if (first.length === 0 || this.#closing) return;
    const byName = new Map<string, number[]>();
    for (const r of first) {
      const list = byName.get(r.name);
      if (list) list.push(r.id);
      else byName.set(r.name, [r.id]);
    }
    const marks = [...byName].map(([name, ids]) => ({ name, ids }));
    if (this.#forwards()) {
      // A cluster follower: the writer (which expires undelivered requests) records the mark, and every node applies it
      // from the log. Without a writer right now (a failover), the mark is sent again until one takes it.
      this.#forwardMarks(marks, 1);
      return;
    }
    if (!this.#isWriter()) return;
    this.#commitDelivered(marks).catch((err: unknown) => this.#onError(err, "delivery mark"));
  }

  /**
   * Sends a follower's delivery marks to the writer; while no node writes (NO_WRITER, NOT_WRITER) or the writer does
   * not answer, tries again every MARK_RETRY_MS for MARK_TRIES tries (longer than a failover), then says it gave up:
   * the requests then count as undelivered and may expire. A mark the new writer finds stale writes nothing.
   */
  #forwardMarks(marks: readonly { name: string; ids: readonly number[] }[], attempt: number): void {
    this.#forward("deliver", [marks]).catch((err: unknown) => {
      if (this.#closing) return;
      const transient =
        isSwitchboardError(err) && ["NO_WRITER", "NOT_WRITER", "STORAGE_UNAVAILABLE"].includes(err.code);
      if (transient && attempt < MARK_TRIES) {
        const timer = this.clock.setTimeout(() => {
          this.#markRetries.delete(timer);
          this.#forwardMarks(marks, attempt + 1);
        }, MARK_RETRY_MS);
        this.#markRetries.add(timer);
        return;
      }
      this.#onError(
        err,
        `forwarded delivery mark of ${marks.reduce((n, m) => n + m.ids.length, 0)} request(s) lost after ${attempt} tries: they count as undelivered`,
      );
    });
  }

  /**
   * Records delivery marks (of a poll here, or forwarded by a follower): only of requests still queued and not yet
   * marked, so a mark that arrives after the request expired or was acknowledged writes nothing. Returns how many.
   */
  async #commitDelivered(marks: readonly { name: string; ids: readonly number[] }[]): Promise<number> {
    const at = this.clock.now();
    const mutations: Mutation[] = [];
    let count = 0;
    for (const { name, ids } of marks) {
      const wanted = new Set(ids);
      const fresh = (this.#state.queues.get(name) ?? [])
        .filter((r) => wanted.has(r.id) && !this.#state.delivered.has(r.id))
        .map((r) => r.id);
      if (fresh.length === 0) continue;
      count += fresh.length;
      mutations.push({ type: "deliver", name, ids: fresh, at });
    }
    if (mutations.length === 0) return 0;
    this.#writable();
    await this.#committer.submit(mutations, () => this.#apply(mutations));
    return count;
  }

  /** Outcome long-polls held now (they count against maxWaiters). */
  get outcomeWaiters(): number {
    return this.#outcomes.waiting;
  }

  /** A request's life-cycle state, while queued and for the request history after. */
  outcome(id: number): Outcome | undefined {
    return this.#outcomes.get(id);
  }

  /** Holds until the request reaches a final status (or the timeout/signal/shutdown); answers its outcome then. */
  waitOutcome(id: number, timeoutMs: number, signal?: AbortSignal): Promise<Outcome | undefined> {
    if (this.#closing) return Promise.resolve(this.#outcomes.get(id));
    if (timeoutMs > 0 && this.#held() >= this.limits.maxWaiters) return Promise.reject(tooManyWaiters());
    return this.#outcomes.wait(id, timeoutMs, signal);
  }

  /**
   * A provider's outcomes for requests it handled: each still-queued request leaves the queue with
   * its status (done, rejected, failed) and optional result/message, in one ack event per
   * register. Ids no longer queued (already acknowledged, expired, unknown) are left alone.
   * Answers each id's outcome after the report (undefined for unknown ids).
   */
  async report(reports: readonly ReportedOutcome[]): Promise<(Outcome | undefined)[]> {
    if (this.#forwards()) {
      // The writer's outcomes as it answered them; unknown ids travel as null.
      const answered = (await this.#forward("report", [reports])) as (Outcome | null)[];
      return answered.map((o) => o ?? undefined);
    }
    return this.#report(reports);
  }

  async #report(reports: readonly ReportedOutcome[]): Promise<(Outcome | undefined)[]> {
    this.#writable();
    this.#checkBatch(reports.length);
    const byName = new Map<string, ReportedOutcome[]>();
    for (const r of reports) {
      if (!Number.isSafeInteger(r.id) || r.id < 1) {
        throw new SwitchboardError("INVALID_INDEX", "an ack id must be a positive integer", { details: { id: r.id } });
      }
      if (r.result !== undefined)
        this.#checkJson("VALUE_TOO_LARGE", "result", String(r.id), r.result, this.limits.maxValueBytes);
      const name = this.#outcomes.get(r.id)?.name;
      if (name === undefined) continue;
      const list = byName.get(name);
      if (list) list.push(r);
      else byName.set(name, [r]);
    }
    if (byName.size > 0) {
      await this.#locked(byName.keys(), () => {
        const mutations: Mutation[] = [];
        for (const [name, list] of byName) {
          const queued = new Set((this.#state.queues.get(name) ?? []).map((q) => q.id));
          const outcomes = list.filter((r) => queued.has(r.id));
          if (outcomes.length === 0) continue;
          const ids = [...new Set(outcomes.map((o) => o.id))].sort((a, b) => a - b);
          const revision = ++this.#nextRevision;
          const finished = this.#finishing(name, ids, "acknowledged", outcomes);
          mutations.push({ type: "ack", name, revision, upTo: ids.at(-1)!, ids, reason: "acknowledged", outcomes });
          mutations.push({ type: "finish", name, outcomes: finished });
        }
        return { mutations, result: undefined };
      });
    }
    return reports.map((r) => this.#outcomes.get(r.id));
  }

  /** Writes a snapshot of the committed state and lets the store drop its log. */
  compact(): Promise<void> {
    return this.#committer.exclusive(async () => {
      const outcomes = this.#outcomes.finishedList();
      await this.persistence.compact({ ...this.#state.snapshot(), ...(outcomes.length > 0 ? { outcomes } : {}) });
    });
  }

  // ----------------------------------------------------------------- reads

  get(name: string): Register | undefined {
    return this.#state.registers.get(name);
  }

  /** Current registers of a selection: every named one (found or not) and every one under each prefix. */
  read(selector: Selector, removed: Iterable<string> = []): RegisterView[] {
    const out = new Map<string, RegisterView>();
    for (const name of selector.names ?? []) out.set(name, this.#view(name));
    for (const p of selector.prefixes ?? []) {
      for (const name of this.#state.namesWithPrefix(p)) if (!out.has(name)) out.set(name, this.#view(name));
    }
    for (const name of removed) if (!out.has(name)) out.set(name, { name, found: false });
    return [...out.values()];
  }

  /** A page of registers under a prefix, in name order, after the name `after`; limit is capped at MAX_PAGE. */
  list(prefix: string, requested: number, after?: string): { registers: Register[]; next: string | null } {
    assertPrefix(prefix);
    if (!Number.isInteger(requested) || requested < 1)
      throw new SwitchboardError("INVALID_QUERY", "limit must be an integer >= 1");
    const limit = Math.min(requested, MAX_PAGE);
    const registers: Register[] = [];
    let more = false;
    for (const name of this.#state.namesWithPrefix(prefix, after)) {
      if (registers.length === limit) {
        more = true;
        break;
      }
      registers.push(this.#state.registers.get(name)!);
    }
    return { registers, next: more ? registers[registers.length - 1]!.name : null };
  }

  /** The pending change requests of one register, oldest first (empty when none). */
  queued(name: string): readonly ChangeRequest[] {
    return this.#state.queues.get(name) ?? [];
  }

  /** Pending change requests of the selection with id > after, in id order. */
  pendingRequests(selector: Selector, after = 0): ChangeRequest[] {
    const out: ChangeRequest[] = [];
    for (const name of this.#queuedNames(selector)) {
      for (const r of this.#state.queues.get(name) ?? []) if (r.id > after) out.push(r);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /**
   * What changed for a selection since `index`: whether anything watched changed, whether the
   * caller must resync (index older than the event ring, or newer than the current revision),
   * and which watched registers were removed since.
   */
  #changesSince(selector: Selector, index: number, withRequests = false, where?: Where): Changes {
    if (index > this.#state.revision || !this.#ring.covers(index))
      return { changed: true, resync: true, removed: [], touched: [] };
    // Called for every woken poll: nothing is allocated until an event matches (a wake usually scans one event).
    const list = selector.names ?? [];
    const names = list.length > 8 ? new Set(list) : undefined;
    const prefixes = selector.prefixes ?? [];
    let touched: Set<string> | undefined;
    let removed: Set<string> | undefined;
    for (const e of this.#ring.since(index)) {
      const queue = e.type === "request" || e.type === "ack";
      if (queue && !withRequests) continue;
      if (!(names ? names.has(e.name) : list.includes(e.name)) && !prefixes.some((p) => e.name.startsWith(p))) continue;
      // Removals are tracked whatever the filter: a woken poll still answers them as not found.
      if (where === undefined || this.#where.matches(where, e)) {
        touched ??= new Set();
        touched.add(e.name);
      }
      if (queue) continue;
      if (e.type === "set") removed?.delete(e.name);
      else {
        removed ??= new Set();
        removed.add(e.name);
      }
    }
    if (touched === undefined) return NO_CHANGES;
    const gone: string[] = [];
    if (removed) for (const n of removed) if (!this.#state.registers.has(n)) gone.push(n);
    return {
      changed: true,
      resync: false,
      removed: gone,
      touched: touched.size === 1 ? [...touched] : [...touched].sort(),
    };
  }

  /** Events with revision > index under a prefix, or null when the ring no longer covers index. */
  eventsSince(index: number, prefix = ""): SwitchboardEvent[] | null {
    if (!this.#ring.covers(index)) return null;
    const out: SwitchboardEvent[] = [];
    for (const e of this.#ring.since(index)) if (e.name.startsWith(prefix)) out.push(e);
    return out;
  }

  /** Calls `listener` for every event applied from now on. Returns the unsubscribe function. */
  subscribe(listener: (e: SwitchboardEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ----------------------------------------------------------------- waits

  /**
   * Holds until a change of the selection (kind consumer: set/delete/expire; kind provider: a new
   * change request), the timeout, or shutdown, then calls `onOutcome` once. Answers the outcome
   * instead when there is nothing to hold (closing, no wait). Every path releases the deadline
   * and the index entries; the holder ends a hold early with `settle(waiter, …)` or `detach()`.
   */
  #hold(
    kind: WaitKind,
    selector: Selector,
    req: HoldRequest,
    onOutcome: (o: WaitOutcome) => void,
  ): Waiter | WaitOutcome {
    if (this.#closing) return { reason: "closed" };
    if (req.timeoutMs <= 0) return TIMEOUT;
    if (this.#held() >= this.limits.maxWaiters) throw tooManyWaiters();
    const filtered = kind === "consumer" && req.where !== undefined;
    const index = filtered ? this.#filtered : this.#waiters[kind];
    const queue =
      kind === "consumer" && req.requests === true ? (filtered ? this.#filteredQueue : this.#queueWatchers) : undefined;
    let done = false;
    let cleaned = false;
    let cancelDeadline: () => void = () => undefined;
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      index.remove(waiter);
      queue?.remove(waiter);
      cancelDeadline();
    };
    const waiter: Waiter = {
      names: selector.names ?? [],
      prefixes: selector.prefixes ?? [],
      ...(req.where === undefined ? {} : { where: req.where }),
      claim: () => {
        if (done) return false;
        done = true;
        return true;
      },
      detach: () => {
        if (done) return false;
        done = true;
        cleanup();
        return true;
      },
      deliver: (o) => {
        cleanup();
        onOutcome(o);
      },
    };
    index.add(waiter);
    queue?.add(waiter);
    cancelDeadline = this.#deadlines.add(req.timeoutMs, waiter);
    return waiter;
  }

  /** The promise form of #hold, ended early by the signal. */
  #wait(kind: WaitKind, selector: Selector, req: WaitRequest): Promise<WaitOutcome> {
    if (this.#closing) return Promise.resolve({ reason: "closed" });
    if (req.signal?.aborted) return Promise.resolve({ reason: "aborted" });
    const { signal } = req;
    return new Promise<WaitOutcome>((resolve, reject) => {
      let off: (() => void) | undefined;
      let held: Waiter | WaitOutcome;
      try {
        held = this.#hold(kind, selector, req, (o) => {
          off?.();
          resolve(o);
        });
      } catch (err) {
        reject(err);
        return;
      }
      if (!("detach" in held)) return resolve(held);
      if (signal) {
        const waiter = held;
        const onAbort = () => settle(waiter, { reason: "aborted" });
        signal.addEventListener("abort", onAbort, { once: true });
        off = () => signal.removeEventListener("abort", onAbort);
      }
    });
  }

  /**
   * Delivers outcomes to waiters already detached: the first SYNC_WAKES at once, the rest in
   * chunks, each in its own macrotask, so a wake of 10,000 never holds the event loop for long.
   */
  #deliver(batch: readonly (readonly [Waiter, WaitOutcome])[]): void {
    let at = 0;
    const run = (n: number) => {
      const end = Math.min(batch.length, at + n);
      for (; at < end; at++) {
        const [w, o] = batch[at]!;
        try {
          w.deliver(o);
        } catch (err) {
          this.#onError(err, "waiter");
        }
      }
      if (at < batch.length) setImmediate(() => run(WAKE_CHUNK));
    };
    run(SYNC_WAKES);
  }

  /**
   * The one event stream behind SSE, GraphQL subscriptions, WebSocket notifications and ZeroMQ
   * PUB: backlog replay from `after`, a bounded buffer, the slow-consumer cut and resync (see
   * watch.ts). Counts against maxWaiters (TOO_MANY_WAITERS when full); ends on close.
   */
  watch(options: WatchOptions & { readonly where?: Where | undefined } = {}): Watch {
    if (this.#closing) throw new SwitchboardError("SHUTTING_DOWN", "the server is shutting down");
    for (const p of options.prefixes ?? []) assertPrefix(p);
    for (const n of options.names ?? []) assertName(n);
    const { where } = options;
    // With a filter, events are matched by name first, then by the shared filter verdict (one evaluation per event).
    const named = matcher(options);
    const keep =
      where === undefined ? undefined : (e: SwitchboardEvent) => named(e.name) && this.#where.matches(where, e);
    return new Watch(
      {
        revision: this.#state.revision,
        epoch: this.#state.epoch,
        closing: this.#closing,
        eventsSince: (index) => {
          const events = this.eventsSince(index);
          return keep === undefined || events === null ? events : events.filter(keep);
        },
        subscribe: (listener) => this.subscribe(keep === undefined ? listener : (e) => keep(e) && listener(e)),
        track: (end) => {
          if (this.#held() >= this.limits.maxWaiters) throw tooManyWaiters();
          this.#streams.add(end);
          return () => this.#streams.delete(end);
        },
      },
      options,
    );
  }

  /**
   * Registers one client of a shared watch (a protocol's fan-out of one `watch` to many clients):
   * it counts against maxWaiters (TOO_MANY_WAITERS when full) and `end` is called on close.
   * Returns the release, harmless twice.
   */
  trackSubscriber(end: () => void): () => void {
    if (this.#closing) throw new SwitchboardError("SHUTTING_DOWN", "the server is shutting down");
    if (this.#held() >= this.limits.maxWaiters) throw tooManyWaiters();
    this.#subscribers.add(end);
    return () => void this.#subscribers.delete(end);
  }

  /** The consumer long-poll every protocol offers (see polls.ts). */
  consumerPoll(selector: Selector, index: number | undefined, options: PollOptions): Promise<ConsumerPollResult> {
    return consumerPoll(this, selector, index, options);
  }

  /** The provider long-poll: acknowledges up to `after`, then answers pending requests or holds. */
  providerPoll(selector: Selector, after: number | undefined, options: PollOptions): Promise<ProviderPollResult> {
    return providerPoll(this, selector, after, options);
  }

  /**
   * The consumer long-poll with a callback instead of a promise and a signal, for protocols that
   * hold many polls (no promise, no AbortController, no timer per poll). Throws the validation
   * errors synchronously; `done` may be called before this returns (an answer at once).
   */
  holdConsumerPoll(
    selector: Selector,
    index: number | undefined,
    options: PollOptions,
    done: (result: ConsumerPollResult) => void,
  ): HeldPoll {
    return holdConsumerPoll(this, selector, index, options, done);
  }

  /** The provider long-poll with a callback (see holdConsumerPoll); `done` gets an error or the answer. */
  holdProviderPoll(
    selector: Selector,
    after: number | undefined,
    options: PollOptions,
    done: (err: unknown, result?: ProviderPollResult) => void,
  ): HeldPoll {
    return holdProviderPoll(this, selector, after, options, done);
  }

  // -------------------------------------------------------------- lifecycle

  /** Stops taking writes, answers every held wait, waits for pending commits and closes the store. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#sweepTimer !== undefined) this.clock.clearTimeout(this.#sweepTimer);
    for (const t of this.#markRetries) this.clock.clearTimeout(t);
    for (const idx of [...Object.values(this.#waiters), this.#filtered])
      for (const w of idx.all()) settle(w, { reason: "closed" });
    this.#deadlines.clear();
    for (const end of [...this.#streams]) end();
    this.#outcomes.closeAll();
    for (const done of [...this.#appliedWaiters]) done();
    await this.#sweeping?.catch(() => 0);
    await this.#committer.onIdle();
    await this.persistence.close();
  }

  // -------------------------------------------------------------- internals

  /** Long-polls and streams held: what maxWaiters bounds. */
  #held(): number {
    return (
      this.#waiters.consumer.size +
      this.#waiters.provider.size +
      this.#filtered.size +
      this.#streams.size +
      this.#subscribers.size +
      this.#outcomes.waiting
    );
  }

  /** A cluster follower hands its writes to the writer (see Persistence.forward). */
  #forwards(): boolean {
    return !this.#closing && this.persistence.forward !== undefined && !this.#isWriter();
  }

  #forward(op: ForwardedWrite["op"], args: readonly unknown[]): Promise<unknown> {
    return this.persistence.forward!({ op, args });
  }

  /**
   * Runs a write another node forwarded (this node being the writer). Never forwards again: a node
   * that lost the lease meanwhile answers NOT_WRITER, which the sender turns into NO_WRITER. The
   * arguments are checked by the same validation as a local caller's.
   */
  async #runForwarded(call: ForwardedWrite): Promise<unknown> {
    const a = call.args as unknown[];
    switch (call.op) {
      case "set":
        return this.#set(a[0] as SetInput[]);
      case "touch":
        return this.#touch(a[0] as string, a[1] as number | null);
      case "patchMetadata": {
        const patch: Record<string, Json | undefined> = { ...(a[1] as Record<string, Json>) };
        for (const k of a[2] as string[]) patch[k] = undefined;
        return this.#patchMetadata(a[0] as string, patch);
      }
      case "delete":
        return this.#delete(a[0] as (string | DeleteInput)[]);
      case "request":
        return this.#request(a[0] as RequestInput[]);
      case "acknowledge":
        return this.#acknowledge(a[0] as Selector, a[1] as number);
      case "report":
        return (await this.#report(a[0] as ReportedOutcome[])).map((o) => o ?? null);
      case "deliver": {
        const marks = (Array.isArray(a[0]) ? a[0] : []) as { name: string; ids: number[] }[];
        if (!marks.every((m) => typeof m?.name === "string" && Array.isArray(m.ids))) {
          throw new SwitchboardError("INVALID_BODY", "a forwarded delivery mark is malformed");
        }
        return this.#commitDelivered(marks);
      }
      default:
        throw new SwitchboardError("INVALID_BODY", `unknown forwarded write ${String((call as { op: unknown }).op)}`);
    }
  }

  #writable(): void {
    if (this.#closing) throw new SwitchboardError("SHUTTING_DOWN", "the server is shutting down");
    // Refused before anything is assigned: a follower must not consume revisions the writer hands out.
    if (!this.#isWriter()) {
      const writer = this.persistence.writer?.() ?? null;
      throw new SwitchboardError(
        "NOT_WRITER",
        writer ? `this node does not take writes; node ${writer} does` : "no node holds the write lease right now",
        { details: { writer }, retryAfter: 1 },
      );
    }
  }

  #isWriter(): boolean {
    return this.persistence.isWriter?.() ?? true;
  }

  #checkTtl(name: string, ttlMs: number | null): void {
    if (ttlMs !== null && (!(ttlMs >= 0) || ttlMs > this.limits.maxTtlMs)) {
      throw new SwitchboardError("TTL_OUT_OF_RANGE", `ttl of ${name} must be between 0 and ${this.limits.maxTtlMs} ms`);
    }
  }

  #checkBatch(n: number): void {
    if (n > this.limits.maxBatch) {
      throw new SwitchboardError("BATCH_TOO_LARGE", `a batch may hold at most ${this.limits.maxBatch} items, got ${n}`);
    }
  }

  /** Shape first (serialising a too-deep value would overflow the stack), then size. */
  #checkJson(code: "VALUE_TOO_LARGE" | "METADATA_TOO_LARGE", what: string, name: string, v: Json, max: number) {
    const problem = inspectJson(v, this.limits.maxDepth);
    if (problem === "too_deep") {
      throw new SwitchboardError(
        "NESTING_TOO_DEEP",
        `${what} of ${name} nests deeper than ${this.limits.maxDepth} levels`,
        {
          details: { name, limit: this.limits.maxDepth },
        },
      );
    }
    if (problem === "not_finite") {
      throw new SwitchboardError("VALUE_NOT_JSON", `${what} of ${name} holds a number JSON cannot represent`, {
        details: { name },
      });
    }
    const size = jsonSize(v);
    if (size > max) {
      throw new SwitchboardError(code, `${what} of ${name} is ${size} bytes, more than ${max}`, {
        details: { name, size, limit: max },
      });
    }
  }

  #view(name: string): RegisterView {
    const register = this.#state.registers.get(name);
    return register ? { name, found: true, register } : { name, found: false };
  }

  /** Names in the selection that have pending requests. */
  #queuedNames(selector: Selector): string[] {
    const out = new Set<string>();
    for (const n of selector.names ?? []) if (this.#state.queues.has(n)) out.add(n);
    const prefixes = selector.prefixes ?? [];
    if (prefixes.length > 0) {
      for (const n of this.#state.queues.keys()) if (prefixes.some((p) => n.startsWith(p))) out.add(n);
    }
    return [...out];
  }

  #dropRequests(name: string, reason: "expired" | "deleted", into: Mutation[]): void {
    for (const r of this.#state.queues.get(name) ?? []) {
      const outcomes = this.#finishing(name, [r.id], reason);
      into.push({ type: "ack", name, revision: ++this.#nextRevision, upTo: r.id, ids: [r.id], reason });
      into.push({ type: "finish", name, outcomes });
    }
  }

  /** The final outcomes an ack will make of these queued requests (persisted with it, so a restart keeps them). */
  #finishing(name: string, ids: readonly number[], reason: AckReason, reported: readonly ReportedOutcome[] = []) {
    const byId = new Map(reported.map((o) => [o.id, o]));
    const wanted = new Set(ids);
    const at = this.clock.now();
    const out: FinishedOutcome[] = [];
    for (const r of this.#state.queues.get(name) ?? []) {
      if (!wanted.has(r.id)) continue;
      const o = byId.get(r.id);
      out.push({
        id: r.id,
        name,
        status: o?.status ?? (statusOfReason(reason) as FinishedOutcome["status"]),
        requestedAt: r.requestedAt,
        ...(r.requester === undefined ? {} : { requester: r.requester }),
        ...(r.requestKey === undefined ? {} : { requestKey: r.requestKey }),
        finishedAt: at,
        ...(o?.result === undefined ? {} : { result: o.result }),
        ...(o?.message === undefined ? {} : { message: o.message }),
      });
    }
    return out;
  }

  /**
   * Runs `prepare` under the per-register write guards of `names`, commits what it returns,
   * applies it and only then resolves: no one sees a change before it is durable, and writes to
   * one register commit and apply in order while others group-commit alongside.
   */
  async #locked<T>(names: Iterable<string>, prepare: () => { mutations: Mutation[]; result: T }): Promise<T> {
    const release = await this.#locks.lockAll(names);
    try {
      this.#writable();
      const { mutations, result } = prepare();
      if (mutations.length > 0) await this.#committer.submit(mutations, () => this.#apply(mutations));
      return result;
    } finally {
      release();
    }
  }

  #apply(mutations: readonly Mutation[]): void {
    const at = this.clock.now();
    const woken: [Waiter, WaitOutcome][] = [];
    // The finish mutation written beside each ack holds the time the outcome became final: use it, so
    // the outcome read now and the one restored after a restart are the same.
    const finished = new Map<number, FinishedOutcome>();
    for (const m of mutations) if (m.type === "finish") for (const o of m.outcomes) finished.set(o.id, o);
    for (const m of mutations) {
      if (m.type === "ack") {
        const reported = new Map((m.outcomes ?? []).map((o) => [o.id, o]));
        const status: OutcomeStatus = statusOfReason(m.reason);
        for (const r of this.#state.queues.get(m.name) ?? []) {
          if (!(m.ids ? m.ids.includes(r.id) : r.id <= m.upTo)) continue;
          this.#requestDeadlines.remove(r.id);
          const o = reported.get(r.id);
          const f = finished.get(r.id);
          this.#outcomes.finish(
            r.id,
            o?.status ?? status,
            {
              ...(o?.result === undefined ? {} : { result: o.result }),
              ...(o?.message === undefined ? {} : { message: o.message }),
            },
            f?.finishedAt ?? at,
          );
        }
      }
      if (m.type === "deliver") {
        const ids = new Set(m.ids);
        const queued = (this.#state.queues.get(m.name) ?? []).filter((r) => ids.has(r.id));
        this.#requestDeadlines.delivered(queued);
        this.#outcomes.delivered(queued.map((r) => r.id));
      }
      this.#state.apply(m);
      if (m.type === "request") {
        this.#requestDeadlines.add(m.request);
        this.#outcomes.queued(m.request);
      }
      if (!isEvent(m)) continue;
      this.#ring.push(m);
      const kind: WaitKind | null = m.type === "request" ? "provider" : m.type === "ack" ? null : "consumer";
      const change: WaitOutcome = { reason: "change", event: m, changedAt: at };
      if (kind) for (const w of this.#waiters[kind].take(m.name)) if (w.claim()) woken.push([w, change]);
      if (m.type === "request" || m.type === "ack")
        for (const w of this.#queueWatchers.take(m.name)) if (w.claim()) woken.push([w, change]);
      // Conditional waiters stay in their index until a change matches their filter.
      if (kind === "consumer" && this.#filtered.size > 0)
        for (const w of this.#filtered.match(m.name))
          if (w.where !== undefined && this.#where.matches(w.where, m) && w.detach()) woken.push([w, change]);
      if ((m.type === "request" || m.type === "ack") && this.#filteredQueue.size > 0)
        for (const w of this.#filteredQueue.match(m.name))
          if (w.where !== undefined && this.#where.matches(w.where, m) && w.detach()) woken.push([w, change]);
      for (const l of this.#listeners) {
        try {
          l(m);
        } catch (err) {
          this.#onError(err, "event listener");
        }
      }
    }
    for (const done of [...this.#appliedWaiters]) done();
    if (woken.length > 0) this.#deliver(woken);
    if (!this.#compacting && this.persistence.wantsCompaction?.()) {
      this.#compacting = true;
      void this.compact()
        .catch((err) => this.#onError(err, "compaction"))
        .finally(() => {
          this.#compacting = false;
        });
    }
  }

  /**
   * Lease grace on start (as etcd's lessor extends every lease when a new leader takes over): a
   * deadline that passed, or is about to, while nobody could refresh it is moved to now +
   * min(ttl, grace). Registers whose owner is gone still expire, one grace period later. Granted on
   * open, and again by a cluster member each time it becomes the writer (before its first sweep), so
   * registers whose deadline passed while no node could refresh them (a failover) get the same chance.
   */
  async #grantGrace(): Promise<void> {
    const graceMs = this.#ttlGraceMs;
    if (!this.#isWriter()) return;
    if (graceMs === 0) {
      this.#graced = true;
      return;
    }
    const floorOf = (r: Register, now: number): number | null => {
      if (r.expiresAt === null) return null;
      // Data written before TTLs were kept: the deadline's distance from the last write is the best guess.
      const ttl = r.ttlMs ?? Math.max(0, r.expiresAt - r.updatedAt);
      const floor = now + (graceMs === undefined ? ttl : Math.min(ttl, graceMs));
      return r.expiresAt < floor ? floor : null;
    };
    const start = this.clock.now();
    const names: string[] = [];
    for (const r of this.#state.registers.values()) if (floorOf(r, start) !== null) names.push(r.name);
    const chunk = this.limits.maxBatch * 10;
    for (let i = 0; i < names.length; i += chunk) {
      // Under the registers' locks: a write in flight (forwarded writes reach a new writer at once) is not overwritten.
      await this.#locked(names.slice(i, i + chunk), () => {
        const now = this.clock.now();
        const mutations: Mutation[] = [];
        for (const name of names.slice(i, i + chunk)) {
          const r = this.#state.registers.get(name);
          const floor = r ? floorOf(r, now) : null;
          if (floor !== null) mutations.push({ type: "refresh", name, expiresAt: floor });
        }
        return { mutations, result: undefined };
      });
    }
    this.#graced = true;
  }

  #scheduleSweep(): void {
    if (this.#closing) return;
    this.#sweepTimer = this.clock.setTimeout(() => {
      this.sweep()
        .catch((err) => this.#onError(err, "ttl sweep"))
        .finally(() => this.#scheduleSweep());
    }, this.#sweepIntervalMs);
  }
}

function notFound(name: string): SwitchboardError {
  return new SwitchboardError("REGISTER_NOT_FOUND", `register ${name} does not exist`, { details: { name } });
}

function tooManyWaiters(): SwitchboardError {
  return new SwitchboardError("TOO_MANY_WAITERS", "too many long-polls are held; retry later", { retryAfter: 1 });
}

export type RegisterView =
  | { readonly name: string; readonly found: true; readonly register: Register }
  | { readonly name: string; readonly found: false };
