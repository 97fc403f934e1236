// The interfaces the core needs from the outside world: storage, time, health cache.

import type { Mutation, Snapshot } from "./types.js";

/** What a store hands back on start: the last snapshot (if any) and every mutation logged after it. */
export interface LoadResult {
  /**
   * The history id of this data set: made (at random) when the store was first initialised and
   * kept for as long as its data is. A store that lost or never had its data answers a new one, so
   * an index, `after` or cursor from another epoch is recognised as meaningless here.
   */
  readonly epoch: string;
  readonly snapshot: Snapshot | null;
  /** Mutations newer than the snapshot, in commit order. Events at or below snapshot.revision may appear and are skipped. */
  readonly tail: readonly Mutation[];
}

/**
 * Durable storage of the core's mutations. The core calls commit() through one queue (never two at
 * once) with every mutation that piled up while the previous commit ran: one commit = one fsync /
 * one bulkWrite for many client writes (group commit).
 */
/** A core write forwarded from one cluster node to the writer: the method and its JSON arguments. */
export interface ForwardedWrite {
  readonly op: "set" | "touch" | "patchMetadata" | "delete" | "request" | "acknowledge" | "report" | "deliver";
  readonly args: readonly unknown[];
}

export interface Persistence {
  readonly name: string;
  load(): Promise<LoadResult>;
  /** Resolves when the mutations are durable (by the store's durability setting); rejects if not. */
  commit(mutations: readonly Mutation[]): Promise<void>;
  /**
   * Replace the log by a snapshot. Called between commits (never concurrently with one). The
   * snapshot holds everything committed so far; a store may keep writing the snapshot in the
   * background as long as a later load() returns an equivalent state.
   */
  compact(snapshot: Snapshot): Promise<void>;
  /** True when the store wants a compaction (for example its log passed a size). */
  wantsCompaction?(): boolean;
  /** False while the store cannot take writes (lost connection); /readyz reports it. */
  isHealthy?(): boolean;
  /**
   * For a store shared by several nodes (a cluster): false while another node (or none) is the one
   * writer. The core then refuses writes with NOT_WRITER before assigning revisions, and neither
   * sweeps TTLs nor grants lease grace (the writer does, once for everyone). Absent = always true.
   */
  isWriter?(): boolean;
  /** The id of the node that takes writes, when known (for NOT_WRITER's details). */
  writer?(): string | null;
  /**
   * For a store shared by several nodes: runs a write on the writer node (the core calls it instead of
   * writing when isWriter() is false) and resolves with the writer's result once this node applied it,
   * so that the caller reads its own write here. Rejects with the writer's error unchanged, or
   * NO_WRITER when no node takes writes. Absent = writes are refused with NOT_WRITER.
   */
  forward?(call: ForwardedWrite): Promise<unknown>;
  /** For a store shared by several nodes: how this node runs writes other nodes forward to it (the core registers it). */
  serveForwarded?(run: (call: ForwardedWrite) => Promise<unknown>): void;
  /** What an operator should see of a shared store in /status (a cluster node's role, term, applied sequence). */
  cluster?(): Readonly<Record<string, unknown>>;
  close(): Promise<void>;
}

export type TimerHandle = { readonly __timer: unique symbol } | number | object;

/** Time, injected so that tests drive it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Cached health results with a TTL (Redis when configured, memory otherwise). A cache is an
 * optimisation, never a source of truth: get/set may reject while the backend is down, and the
 * caller then probes live. Keys are the caller's; an adapter may prefix them in its backend.
 */
export interface HealthCache {
  readonly name: string;
  /** The value stored under `key`, or null when absent or expired. */
  get(key: string): Promise<string | null>;
  /** Stores `value` under `key` for `ttlMs` (> 0) milliseconds, replacing what was there. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** False while the backend is unreachable (for /readyz); absent = always reachable. */
  isHealthy?(): boolean;
  close(): Promise<void>;
}

/** Blobs (uploaded archives) kept outside the register state. */
export interface ObjectStore {
  /** The adapter's name (fs, s3, memory …). */
  readonly name: string;
  put(key: string, data: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  /** Removes the object, or every object under the key when it ends with `/`. */
  delete(key: string): Promise<void>;
  /** Where a client finds the object (or the folder, for a key ending with `/`): file://, s3:// … */
  url(key: string): string;
}
