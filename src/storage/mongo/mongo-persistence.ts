// The mongo Persistence adapter: one document per register, group commits as one ordered bulkWrite per collection.

import { type Collection, type Document, MongoClient, type MongoClientOptions } from "mongodb";
import { SwitchboardError } from "../../core/errors.js";
import type { LoadResult, Persistence } from "../../core/ports.js";
import type { ChangeRequest, FinishedOutcome, Mutation, Register, Snapshot } from "../../core/types.js";
import { newEpoch } from "../epoch.js";
import { Deadline } from "./deadline.js";
import {
  COLLECTIONS,
  docToEpoch,
  docToMeta,
  docToOutcome,
  docToRegister,
  docToRequest,
  EPOCH_KEY,
  META_KEY,
  outcomeToDoc,
  registerToDoc,
  requestToDoc,
} from "./documents.js";
import { MongoHealth, type MongoLogger } from "./health.js";
import { type MongoMirror, mirrorDocument } from "./mirror.js";
import { type CollectionName, planCommit } from "./plan.js";
import { readAll, reconcile } from "./reconcile.js";

export interface MongoPersistenceOptions {
  /** A mongodb:// or mongodb+srv:// connection string. */
  readonly url: string;
  /** Database name; default: the one in the URL, else "switchboard". */
  readonly database?: string;
  /**
   * Acknowledgement a commit waits for; default "majority" (journaled on replica sets; a
   * standalone mongod takes it as w:1). Sent with wtimeoutMS = writeTimeoutMs. The wire-compatible
   * test server accepts and ignores it (no replication): tests there prove the protocol, not durability.
   */
  readonly writeConcern?: "majority" | number;
  /** Bound for one commit (and each step of load/compact), waiting for a lost connection included; default 5,000. */
  readonly writeTimeoutMs?: number;
  /**
   * When set, wantsCompaction() also answers true once this long has passed since the last
   * reconcile, so the core's next commit triggers one. No timer runs in the adapter.
   */
  readonly reconcileIntervalMs?: number;
  /** How often the driver checks the server; default writeTimeoutMs clamped to 500–10,000 ms. */
  readonly heartbeatFrequencyMs?: number;
  readonly logger?: MongoLogger;
  /** Extra driver options (TLS, auth, monitorCommands …), applied over the adapter's. */
  readonly clientOptions?: MongoClientOptions;
  /** Collections kept in another system's shape beside the registers (the registry_core_data mirror). */
  readonly mirrors?: readonly MongoMirror[];
  /**
   * Told of every failed commit or reconcile (`op` = "commit" or "reconcile", `code` = the
   * Switchboard error code, or the driver's code name): what switchboard_storage_errors_total counts.
   */
  readonly onError?: (op: string, code: string) => void;
}

export interface MongoPersistence extends Persistence {
  readonly name: "mongo";
  /** The driver client, for tests and tooling (command monitoring, direct reads). */
  readonly client: MongoClient;
  readonly databaseName: string;
}

const DEFAULT_DATABASE = "switchboard";

/** The database named in the URL path (`mongodb://host/db?…`), if any. */
export function databaseFromUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(url);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

export function createMongoPersistence(options: MongoPersistenceOptions): MongoPersistence {
  return new MongoStore(options);
}

class MongoStore implements MongoPersistence {
  readonly name = "mongo";
  readonly client: MongoClient;
  readonly databaseName: string;
  readonly #timeoutMs: number;
  readonly #reconcileIntervalMs: number | undefined;
  readonly #health: MongoHealth;
  readonly #mirrors: readonly MongoMirror[];
  readonly #onError: ((op: string, code: string) => void) | undefined;
  readonly #logger: MongoLogger | undefined;
  /** Settles when the previous step's own work has settled (not merely its bound): steps never overlap. */
  #tail: Promise<unknown> = Promise.resolve();
  #ready: Promise<void> | null = null;
  /** A commit failed: Mongo may hold part of it, so the next compaction must reconcile everything. */
  #dirty = false;
  #lastReconcile = Date.now();
  /** The code of the last reconcile failure while they keep failing (logged once per change), else null. */
  #reconcileFailing: string | null = null;
  #closed = false;

  constructor(options: MongoPersistenceOptions) {
    this.#timeoutMs = options.writeTimeoutMs ?? 5_000;
    this.#reconcileIntervalMs = options.reconcileIntervalMs;
    this.#mirrors = options.mirrors ?? [];
    this.#onError = options.onError;
    this.#logger = options.logger;
    this.databaseName = options.database ?? databaseFromUrl(options.url) ?? DEFAULT_DATABASE;
    this.client = new MongoClient(options.url, {
      // Each driver wait is capped by the write bound; Deadline enforces the bound overall.
      serverSelectionTimeoutMS: this.#timeoutMs,
      connectTimeoutMS: this.#timeoutMs,
      // A reply that never comes must not hold later steps (they queue behind it) for long.
      socketTimeoutMS: Math.max(30_000, 4 * this.#timeoutMs),
      heartbeatFrequencyMS: options.heartbeatFrequencyMs ?? Math.min(10_000, Math.max(500, this.#timeoutMs)),
      // Polling, not streaming hello: predictable on every server and wire-compatible test server.
      serverMonitoringMode: "poll",
      writeConcern: { w: options.writeConcern ?? "majority", wtimeoutMS: this.#timeoutMs },
      ...options.clientOptions,
    });
    this.#health = new MongoHealth(this.client, options.logger);
  }

  #collection(name: CollectionName): Collection<Document> {
    return this.client.db(this.databaseName).collection(name);
  }

  isHealthy(): boolean {
    return this.#health.healthy;
  }

  wantsCompaction(): boolean {
    if (this.#dirty) return true;
    return this.#reconcileIntervalMs !== undefined && Date.now() - this.#lastReconcile >= this.#reconcileIntervalMs;
  }

  async load(): Promise<LoadResult> {
    const step = this.#step;
    const epoch = await this.#epoch();
    const meta = await step("read meta", () => this.#collection(COLLECTIONS.meta).findOne({ key: META_KEY }));
    const registers = await readAll(this.#collection(COLLECTIONS.registers), step, docToRegister);
    const requests = await readAll(this.#collection(COLLECTIONS.requests), step, docToRequest);
    const outcomes = await readAll(this.#collection(COLLECTIONS.outcomes), step, docToOutcome);
    if (meta === null && registers.length === 0 && requests.length === 0) return { epoch, snapshot: null, tail: [] };
    const snapshot = buildSnapshot(meta === null ? null : docToMeta(meta), registers, requests);
    return { epoch, snapshot: { ...snapshot, outcomes }, tail: [] };
  }

  /**
   * The database's epoch: read, or made and inserted when the database has none (first start, or a
   * database from before epochs). The unique index on `key` lets only one of two racing first
   * starts win; both then read the winner's.
   */
  async #epoch(): Promise<string> {
    const step = this.#step;
    const meta = this.#collection(COLLECTIONS.meta);
    const found = await step("read epoch", () => meta.findOne({ key: EPOCH_KEY }));
    if (found !== null) return docToEpoch(found);
    await step("write epoch", () =>
      meta.insertOne({ key: EPOCH_KEY, epoch: newEpoch() }).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 11000) throw err; // another server made it first
      }),
    );
    const made = await step("read epoch", () => meta.findOne({ key: EPOCH_KEY }));
    if (made === null) throw new SwitchboardError("STORAGE_UNAVAILABLE", "mongo: the epoch document vanished");
    return docToEpoch(made);
  }

  async commit(mutations: readonly Mutation[]): Promise<void> {
    const plan = planCommit(mutations, this.#mirrors);
    if (plan.writes.size === 0 && plan.counters === null) return;
    try {
      await this.#bounded("commit", async (deadline) => {
        const writes: Promise<unknown>[] = [];
        for (const [name, ops] of plan.writes) {
          writes.push(deadline.retry(() => this.#collection(name).bulkWrite(ops, { ordered: true })));
        }
        const counters = plan.counters;
        if (counters !== null) {
          // $max: a retried or reordered counter update never moves a counter back.
          const update = { $max: { revision: counters.revision, lastRequestId: counters.lastRequestId } };
          writes.push(
            deadline.retry(() =>
              this.#collection(COLLECTIONS.meta).updateOne({ key: META_KEY }, update, { upsert: true }),
            ),
          );
        }
        // Collections are independent, so their bulkWrites go out together; the commit is
        // acknowledged only when every one of them is.
        const settled = await Promise.allSettled(writes);
        for (const s of settled) if (s.status === "rejected") throw s.reason;
      });
      this.#health.writeSucceeded();
    } catch (err) {
      this.#dirty = true;
      this.#health.writeFailed(err);
      this.#onError?.("commit", errorCode(err));
      throw err;
    }
  }

  /**
   * A full reconcile: makes the four collections equal to `snapshot` (upserting what differs or
   * is missing, deleting what the snapshot does not hold), in bounded batches. It repairs what a
   * failed commit may have left half-written, and anything edited by hand in the collections.
   */
  async compact(snapshot: Snapshot): Promise<void> {
    const step = this.#step;
    let collection: string = COLLECTIONS.registers;
    try {
      // Keyed references into the snapshot: each document is built only when it is compared or written.
      const registers = new Map<string, Register>();
      const mirrored = this.#mirrors.map(() => new Map<string, Register>());
      for (const r of snapshot.registers) {
        registers.set(r.name, r);
        this.#mirrors.forEach((mirror, i) => {
          const key = mirror.keyOf(r.name);
          if (key !== null) mirrored[i]!.set(key, r);
        });
      }
      const requests = new Map<number, ChangeRequest>();
      for (const q of snapshot.requests) requests.set(q.id, q);

      const repaired: Record<string, { upserted: number; deleted: number }> = {};
      const run = async <T>(
        name: string,
        key: string,
        desired: ReadonlyMap<string | number, T>,
        toDoc: (t: T, k: string | number) => Document,
      ) => {
        collection = name;
        const c = await reconcile(this.#collection(name as CollectionName), key, desired, toDoc, step);
        if (c.upserted + c.deleted > 0) repaired[name] = { upserted: c.upserted, deleted: c.deleted };
      };
      await run(COLLECTIONS.registers, "name", registers, registerToDoc);
      await run(COLLECTIONS.requests, "id", requests, requestToDoc);
      const outcomes = new Map<number, FinishedOutcome>();
      for (const o of snapshot.outcomes ?? []) outcomes.set(o.id, o);
      await run(COLLECTIONS.outcomes, "id", outcomes, (o: FinishedOutcome) => outcomeToDoc(o));
      for (const [i, mirror] of this.#mirrors.entries()) {
        await run(mirror.collection, mirror.key, mirrored[i]!, (r: Register, k) =>
          mirrorDocument(mirror, String(k), r.value),
        );
      }
      // After a clean run there is nothing to repair; anything else means a failed commit or a hand edit.
      if (Object.keys(repaired).length > 0) {
        this.#logger?.info({ storage: "mongo", repaired }, "mongo reconcile rewrote documents that differed");
      }
      collection = COLLECTIONS.meta;
      const counters = { revision: snapshot.revision, lastRequestId: snapshot.lastRequestId };
      await step("write meta", () =>
        this.#collection(COLLECTIONS.meta).updateOne({ key: META_KEY }, { $set: counters }, { upsert: true }),
      );
      this.#dirty = false;
      this.#lastReconcile = Date.now();
      this.#health.writeSucceeded();
      if (this.#reconcileFailing !== null) this.#logger?.info({ storage: "mongo" }, "mongo reconcile succeeded again");
      this.#reconcileFailing = null;
    } catch (err) {
      this.#health.writeFailed(err);
      const code = errorCode(err);
      this.#onError?.("reconcile", code);
      // Counted every time, logged once per change: a reconcile retried after every commit adds no line per commit.
      if (code !== this.#reconcileFailing) {
        this.#logger?.warn(
          { storage: "mongo", collection, code, err: err instanceof Error ? err.message : String(err) },
          "mongo reconcile failed; the next compaction retries it",
        );
      }
      this.#reconcileFailing = code;
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#health.close();
    // Let a step still in flight settle (its own retries stop at its bound) before closing.
    await new Deadline(this.#timeoutMs, "close").race(this.#tail).catch(() => undefined);
    await this.client.close();
  }

  /** One idempotent driver call, bounded and retried; see #bounded. */
  readonly #step = <T>(what: string, op: () => Promise<T>): Promise<T> =>
    this.#bounded(what, (deadline) => deadline.retry(op));

  /**
   * Runs `work` after every earlier step has settled, once connected, and rejects with
   * STORAGE_UNAVAILABLE if it does not complete within the write bound (counted from the call:
   * waiting for an earlier step or for a reconnect is part of the bound).
   */
  #bounded<T>(what: string, work: (deadline: Deadline) => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new SwitchboardError("STORAGE_UNAVAILABLE", "mongo: the store is closed"));
    }
    const deadline = new Deadline(this.#timeoutMs, what);
    const run = this.#tail.then(async () => {
      if (deadline.expired) throw new SwitchboardError("STORAGE_UNAVAILABLE", `mongo: ${what} gave up`);
      await this.#connect(deadline);
      return work(deadline);
    });
    this.#tail = run.catch(() => undefined);
    return deadline.race(run).catch((err: unknown) => {
      throw toStorageError(err, what);
    });
  }

  /** Connects and creates the indexes once; a failure is retried by the next step. */
  #connect(deadline: Deadline): Promise<void> {
    this.#ready ??= (async () => {
      await deadline.retry(() => this.client.connect());
      await deadline.retry(() =>
        Promise.all([
          this.#collection(COLLECTIONS.registers).createIndex({ name: 1 }, { unique: true }),
          this.#collection(COLLECTIONS.requests).createIndex({ id: 1 }, { unique: true }),
          this.#collection(COLLECTIONS.requests).createIndex({ name: 1, id: 1 }),
          this.#collection(COLLECTIONS.outcomes).createIndex({ id: 1 }, { unique: true }),
          ...this.#mirrors.map((m) => this.#collection(m.collection).createIndex({ [m.key]: 1 }, { unique: true })),
          this.#collection(COLLECTIONS.meta).createIndex({ key: 1 }, { unique: true }),
        ]),
      );
    })().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }
}

/** The code a failure is counted under: the Switchboard code, else the driver's code name or number. */
function errorCode(err: unknown): string {
  const cause = err instanceof SwitchboardError ? (err.cause as { codeName?: unknown } | undefined) : undefined;
  if (typeof cause?.codeName === "string") return cause.codeName;
  if (err instanceof SwitchboardError) return err.code;
  const e = err as { codeName?: unknown; code?: unknown } | null;
  if (typeof e?.codeName === "string") return e.codeName;
  if (e?.code !== undefined) return String(e.code);
  return "UNKNOWN";
}

function toStorageError(err: unknown, what: string): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SwitchboardError("STORAGE_UNAVAILABLE", `mongo: ${what} failed: ${message}`, {
    details: { storage: "mongo", operation: what, error: message },
    cause: err,
  });
}

function buildSnapshot(
  meta: { revision: number; lastRequestId: number } | null,
  registers: Register[],
  requests: ChangeRequest[],
): Snapshot {
  registers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  requests.sort((a, b) => a.id - b.id);
  // The counters live in their own document, written beside the others: take the highest seen so
  // a revision or request id is never handed out twice, even after a half-applied commit.
  let revision = meta?.revision ?? 0;
  let lastRequestId = meta?.lastRequestId ?? 0;
  for (let i = 0; i < registers.length; i++) {
    const r = registers[i]!;
    if (i > 0 && registers[i - 1]!.name === r.name) throw duplicate(COLLECTIONS.registers, "name", r.name);
    revision = Math.max(revision, r.modRevision, r.createRevision);
  }
  for (let i = 0; i < requests.length; i++) {
    const q = requests[i]!;
    if (i > 0 && requests[i - 1]!.id === q.id) throw duplicate(COLLECTIONS.requests, "id", q.id);
    lastRequestId = Math.max(lastRequestId, q.id);
  }
  return { revision, lastRequestId, registers, requests };
}

function duplicate(collection: string, key: string, value: string | number): SwitchboardError {
  return new SwitchboardError("STORAGE_CORRUPT", `two documents in the Mongo collection "${collection}" share ${key}`, {
    details: { collection, key, value },
  });
}
