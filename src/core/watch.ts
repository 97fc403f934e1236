// One event stream for every protocol: backlog replay, a bounded buffer, the slow-consumer cut and resync.

import type { SwitchboardEvent } from "./types.js";

/**
 * What a watch yields. `event`: one applied change, in revision order. `resync`: the requested
 * `after` is no longer covered by the event ring (or is ahead of the server); the consumer must
 * re-read the state it cares about, and events from `index` on follow (also when `after` came from
 * another epoch). `cut`: the consumer fell
 * `maxBuffer` events behind; the stream ends after this item, and the consumer resumes with
 * `after = index` (every event up to `index` was delivered).
 */
export type WatchItem =
  | { readonly type: "event"; readonly event: SwitchboardEvent }
  | { readonly type: "resync"; readonly index: number }
  | { readonly type: "cut"; readonly index: number };

export interface WatchOptions {
  /** Exact register names to follow. */
  readonly names?: readonly string[];
  /** Prefixes to follow; "" follows everything. With neither names nor prefixes, everything is followed. */
  readonly prefixes?: readonly string[];
  /** Replay events with revision > after first; omitted = only events from now on. */
  readonly after?: number;
  /** The epoch `after` came from; another epoch than the server's means resync (see LoadResult.epoch). */
  readonly epoch?: string | undefined;
  /** Ends the stream (the iterator returns). */
  readonly signal?: AbortSignal;
  /** Events buffered before the consumer is cut (default 10,000). */
  readonly maxBuffer?: number;
}

/** What the watch needs from the engine; kept narrow so the stream logic is testable alone. */
export interface WatchSource {
  readonly revision: number;
  readonly epoch: string;
  readonly closing: boolean;
  eventsSince(index: number): SwitchboardEvent[] | null;
  subscribe(listener: (e: SwitchboardEvent) => void): () => void;
  /** Registers the stream so it counts against the waiter limit and is ended on close. Throws when full. */
  track(end: () => void): () => void;
}

export const DEFAULT_WATCH_BUFFER = 10_000;

export function matcher(options: Pick<WatchOptions, "names" | "prefixes">): (name: string) => boolean {
  const names = new Set(options.names ?? []);
  const prefixes = options.prefixes ?? [];
  if (names.size === 0 && prefixes.length === 0) return () => true;
  if (prefixes.includes("")) return () => true;
  return (name) => names.has(name) || prefixes.some((p) => name.startsWith(p));
}

/**
 * A watch stream. The backlog and the live subscription are taken in the same tick, so no event
 * falls between them. Every exit (consumer return, abort, cut, engine close) releases the
 * subscription, the abort listener and the waiter slot.
 */
export class Watch implements AsyncIterableIterator<WatchItem> {
  /**
   * The backlog is replayed from the ring's copy by an index, one item per next(), never copied into the queue
   * or spread into a call: a backlog of any length (a million events) costs one array and no stack.
   */
  #backlog: readonly SwitchboardEvent[] = [];
  #backlogAt = 0;
  #match: (name: string) => boolean;
  readonly #queue: WatchItem[] = [];
  readonly #max: number;
  readonly #signal: AbortSignal | undefined;
  readonly #release: () => void;
  #wake: (() => void) | undefined;
  #ended = false;
  #lastDelivered: number;

  constructor(source: WatchSource, options: WatchOptions = {}) {
    this.#max = options.maxBuffer ?? DEFAULT_WATCH_BUFFER;
    this.#signal = options.signal;
    this.#lastDelivered = options.after ?? source.revision;
    const untrack = source.track(() => this.#end());
    const match = matcher(options);
    this.#match = match;
    if (options.after !== undefined) {
      const foreign = options.epoch !== undefined && options.epoch !== "" && options.epoch !== source.epoch;
      const backlog = foreign || options.after > source.revision ? null : source.eventsSince(options.after);
      if (backlog === null) {
        this.#queue.push({ type: "resync", index: source.revision });
      } else {
        this.#backlog = backlog;
      }
    }
    const unsubscribe = source.subscribe((e) => {
      if (this.#ended || !match(e.name)) return;
      if (this.#queue.length >= this.#max) {
        this.#queue.length = 0;
        this.#backlog = [];
        this.#backlogAt = 0;
        this.#queue.push({ type: "cut", index: this.#lastDelivered });
        this.#ended = true;
        this.#detach();
      } else {
        this.#queue.push({ type: "event", event: e });
      }
      this.#wake?.();
    });
    const onAbort = () => this.#end();
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    this.#release = () => {
      unsubscribe();
      untrack();
      this.#signal?.removeEventListener("abort", onAbort);
    };
    if (this.#signal?.aborted || source.closing) this.#end();
  }

  /** Items buffered and not yet taken (backlog events not yet replayed included, before matching). */
  get buffered(): number {
    return this.#backlog.length - this.#backlogAt + this.#queue.length;
  }

  /** The next backlog event that matches, or undefined once the backlog is replayed. */
  #fromBacklog(): WatchItem | undefined {
    while (this.#backlogAt < this.#backlog.length) {
      const e = this.#backlog[this.#backlogAt++]!;
      if (this.#match(e.name)) return { type: "event", event: e };
    }
    this.#backlog = [];
    this.#backlogAt = 0;
    return undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<WatchItem>> {
    for (;;) {
      // Backlog events come before anything that arrived live (with a resync there is no backlog).
      const item = this.#fromBacklog() ?? this.#queue.shift();
      if (item) {
        if (item.type === "event") this.#lastDelivered = item.event.revision;
        else if (item.type === "resync") this.#lastDelivered = item.index;
        return { done: false, value: item };
      }
      if (this.#ended) {
        this.#detach();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  async return(): Promise<IteratorResult<WatchItem>> {
    this.#queue.length = 0;
    this.#backlog = [];
    this.#backlogAt = 0;
    this.#end();
    this.#detach();
    return { done: true, value: undefined };
  }

  #end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  #detached = false;
  #detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#release();
  }
}
