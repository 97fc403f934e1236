// A consume() subscription: turns the shared poll's answers into an ordered, coalescing stream of register states.

import { ItemQueue } from "./queue.js";
import { type StandardSchemaV1, validate } from "./schema.js";
import type {
  ConsumeItem,
  FoundItem,
  Json,
  MissingItem,
  RequestHandle,
  RequestOptions,
  WireMissing,
  WireRegister,
} from "./types.js";

export type Selection =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "prefix"; readonly prefix: string };

/** What a subscription needs from its client; kept narrow so the subscription can be tested alone. */
export interface SubscriptionHost {
  unsubscribe(sub: SubscriptionImpl): void;
  request(name: string, value: Json, options?: RequestOptions): Promise<RequestHandle>;
  /** False while the client cannot reach the server. */
  readonly connected: boolean;
}

interface BaseSubscription<T = Json> extends AsyncIterableIterator<ConsumeItem<T>> {
  /** Resolves once the first state has been received (rejects if the subscription failed before that). */
  readonly ready: Promise<void>;
  /** Ends the iteration; buffered items are dropped. */
  close(): void;
  /**
   * True when what this subscription holds may be out of date: no first state yet, or the client
   * cannot reach the server (it is reconnecting) — changes made meanwhile are not known here.
   */
  readonly stale: boolean;
  /**
   * Calls `listener` after each answer that changed `current` (for React's useSyncExternalStore and
   * other snapshot readers). Works alongside iteration. Returns the function that removes it.
   */
  onChange(listener: () => void): () => void;
  /** True once the subscription ended (close(), its signal, a 4xx, or the client closed). */
  readonly closed: boolean;
  /** Observable interop: RxJS `from(sub)` and other libraries look for this (and for Symbol.observable). */
  "@@observable"(): BaseSubscription<T>;
  /** Observable interop (RxJS `from(sub)`, …): unsubscribing closes the subscription at once. */
  subscribe(observer: Partial<Observer<ConsumeItem<T>>> | ((item: ConsumeItem<T>) => void)): Unsubscribable;
}

export interface Observer<T> {
  next(value: T): void;
  error(err: unknown): void;
  complete(): void;
}

export interface Unsubscribable {
  unsubscribe(): void;
  readonly closed: boolean;
}

export interface NameSubscription<T = Json> extends BaseSubscription<T> {
  readonly name: string;
  /** The latest state received from the server (possibly not yet read from the iterator). */
  readonly current: ConsumeItem<T> | undefined;
  /**
   * Asks the register's provider to change the value (PUT /consumer); resolves with the request id
   * and an `outcome` promise of its final outcome.
   */
  request(value: Json, options?: RequestOptions): Promise<RequestHandle>;
}

export interface PrefixSubscription<T = Json> extends BaseSubscription<T> {
  readonly prefix: string;
  /** The registers under the prefix as last received, by name. */
  readonly current: ReadonlyMap<string, FoundItem<T>>;
}

export function toItem(r: WireRegister, index: number): FoundItem {
  return {
    name: r.name,
    found: true,
    value: r.value,
    metadata: r.metadata,
    version: r.version,
    createRevision: r.createRevision,
    modRevision: r.modRevision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    expiresAt: r.expiresAt,
    index,
  };
}

export function missing(name: string, index: number): MissingItem {
  return { name, found: false, value: null, metadata: null, version: 0, index };
}

export abstract class SubscriptionImpl implements BaseSubscription {
  initialized = false;
  /** Which first-state read of the shared poll brought this subscription in (set by the hub). */
  generation = 0;
  readonly ready: Promise<void>;
  protected readonly known = new Map<string, ConsumeItem>();
  private readonly queue: ItemQueue<ConsumeItem>;
  private settleReady: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private detach: () => void = () => {};
  private readonly changeListeners = new Set<() => void>();

  /** Checks (and may transform) every found value; an invalid one fails the subscription (INVALID_VALUE). */
  schema: StandardSchemaV1<unknown, unknown> | undefined;
  /** Canonical JSON of the `where` filter: which shared poll this subscription rides on (none: unfiltered). */
  where: string | undefined;

  constructor(
    readonly selection: Selection,
    protected readonly host: SubscriptionHost,
    signal: AbortSignal | undefined,
  ) {
    this.queue = new ItemQueue<ConsumeItem>(undefined, () => this.close());
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Where a library defined Symbol.observable, interop looks for it rather than "@@observable".
    const observable = (Symbol as { observable?: symbol }).observable;
    if (observable !== undefined) Object.defineProperty(this, observable, { value: () => this });
    // A caller that never awaits `ready` must not get an unhandled rejection; awaiting it still rejects.
    this.ready.catch(() => {});
    if (signal) {
      const onAbort = (): void => this.close();
      signal.addEventListener("abort", onAbort, { once: true });
      this.detach = () => signal.removeEventListener("abort", onAbort);
    }
  }

  get closed(): boolean {
    return this.queue.closed;
  }

  get stale(): boolean {
    return !this.initialized || !this.host.connected;
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  subscribe(observer: Partial<Observer<ConsumeItem>> | ((item: ConsumeItem) => void)): Unsubscribable {
    const o: Partial<Observer<ConsumeItem>> = typeof observer === "function" ? { next: observer } : observer;
    let closed = false;
    const pump = async (): Promise<void> => {
      try {
        for (;;) {
          const r = await this.next();
          if (closed) return;
          if (r.done) break;
          o.next?.(r.value);
        }
        if (!closed) o.complete?.();
      } catch (err) {
        if (!closed) o.error?.(err);
      } finally {
        closed = true;
      }
    };
    void pump();
    return {
      unsubscribe: () => {
        if (closed) return;
        closed = true;
        // At once, not at the next item: the name leaves the shared poll now.
        this.close();
      },
      get closed() {
        return closed;
      },
    };
  }

  /** Observable interop: `from(sub)` in RxJS and other libraries look for this. */
  "@@observable"(): this {
    return this;
  }

  matches(name: string): boolean {
    return this.selection.kind === "name" ? this.selection.name === name : name.startsWith(this.selection.prefix);
  }

  /**
   * Takes one answer's entries for this subscription. Emits what differs from what was last received: a
   * register whose incarnation changed (createRevision) gets a found:false first, so a delete followed by a
   * re-create is never hidden; `resync` answers also report prefix registers that silently disappeared.
   */
  deliver(entries: readonly (WireRegister | WireMissing)[], index: number, resync: boolean, newHistory = false): void {
    if (this.queue.closed) return;
    const before = this.snapshotKey();
    const seen = resync && this.selection.kind === "prefix" ? new Set<string>() : undefined;
    for (const r of entries) {
      seen?.add(r.name);
      const last = this.known.get(r.name);
      if (r.found) {
        let item = toItem(r, index);
        if (this.schema !== undefined) {
          try {
            item = { ...item, value: validate(this.schema, r.name, r.value) as Json };
          } catch (err) {
            this.fail(err);
            return;
          }
        }
        if (newHistory) {
          // Revisions of another history cannot be compared: report the state as it is now.
        } else if (last?.found && last.createRevision !== r.createRevision) {
          this.emitMissing(r.name, index);
        } else if (last?.found && last.modRevision === r.modRevision && last.version === r.version) {
          this.known.set(r.name, item); // e.g. a TTL refresh moved expiresAt: no change to report
          continue;
        }
        this.known.set(r.name, item);
        this.queue.push(item, r.name, true);
      } else if (last === undefined ? this.selection.kind === "name" : last.found) {
        this.emitMissing(r.name, index);
      }
    }
    if (seen) {
      for (const [name, last] of this.known) if (last.found && !seen.has(name)) this.emitMissing(name, index);
    }
    if (!this.initialized) {
      this.initialized = true;
      this.settleReady?.resolve();
      this.settleReady = undefined;
    }
    if (newHistory || before !== this.snapshotKey()) {
      this.currentChanged();
      for (const l of [...this.changeListeners]) l();
    }
  }

  /** Called when `current` holds something new (subclasses drop cached views). */
  protected currentChanged(): void {}

  /** Identifies what `current` holds, cheaply: names with their revisions. */
  private snapshotKey(): string {
    let key = "";
    for (const [name, item] of this.known)
      key += `${name}:${item.found ? `${item.createRevision}.${item.modRevision}` : "-"};`;
    return key;
  }

  /** Ends the iteration with `error` (a ClientError from a 4xx answer). */
  fail(error: unknown): void {
    this.settleReady?.reject(error);
    this.settleReady = undefined;
    this.queue.fail(error);
    this.release();
  }

  close(): void {
    this.settleReady?.reject(new DOMException("The subscription was closed.", "AbortError"));
    this.settleReady = undefined;
    this.queue.close();
    this.release();
  }

  next(): Promise<IteratorResult<ConsumeItem>> {
    return this.queue.next();
  }

  return(): Promise<IteratorResult<ConsumeItem>> {
    return this.queue.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private emitMissing(name: string, index: number): void {
    const item = missing(name, index);
    if (this.selection.kind === "name") this.known.set(name, item);
    else this.known.delete(name);
    this.queue.push(item, name, false);
  }

  private release(): void {
    this.detach();
    this.detach = () => {};
    this.host.unsubscribe(this);
  }
}

export class NameSubscriptionImpl extends SubscriptionImpl implements NameSubscription {
  constructor(
    readonly name: string,
    host: SubscriptionHost,
    signal: AbortSignal | undefined,
  ) {
    super({ kind: "name", name }, host, signal);
  }

  get current(): ConsumeItem | undefined {
    return this.known.get(this.name);
  }

  request(value: Json, options?: RequestOptions): Promise<RequestHandle> {
    return this.host.request(this.name, value, options);
  }
}

export class PrefixSubscriptionImpl extends SubscriptionImpl implements PrefixSubscription {
  constructor(
    readonly prefix: string,
    host: SubscriptionHost,
    signal: AbortSignal | undefined,
  ) {
    super({ kind: "prefix", prefix }, host, signal);
  }

  private view: ReadonlyMap<string, FoundItem> | undefined;

  /** A new Map after each change and the same one otherwise, so snapshot readers can compare by identity. */
  get current(): ReadonlyMap<string, FoundItem> {
    // Only found items are kept for a prefix: a deletion removes the entry.
    this.view ??= new Map(this.known as Map<string, FoundItem>);
    return this.view;
  }

  protected override currentChanged(): void {
    this.view = undefined;
  }
}
