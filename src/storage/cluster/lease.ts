// The writer lease of a cluster: one KV key whose bucket TTL makes it vanish unless the holder renews it by compare-and-set.
//
// Why a bucket TTL and not a per-key one: JetStream 2.9 has only max_age per bucket, and a renewal is a new message, so
// the key lives TTL past the last successful renewal. The holder renews every TTL/4 and counts itself the writer only
// until (send time of its last successful renewal) + TTL − TTL/4: the server stamps the renewal after we sent it, so the
// key cannot vanish — and nobody else can take it — before that local deadline. A failed or late renewal steps down.
// The term is the KV revision of the acquisition: it only grows, and names the writer in message ids.

import type { KV } from "@nats-io/kv";

export interface LeaseEvents {
  /** This node took the lease (it must not write before its tail has caught up; see ReplicatedLog). */
  onAcquired(term: number): void;
  /** This node lost or gave up the lease; its writes must stop at once. */
  onLost(reason: string): void;
}

export interface LeaseOptions {
  readonly kv: KV;
  readonly key: string;
  readonly nodeId: string;
  readonly ttlMs: number;
  readonly events: LeaseEvents;
  readonly onError: (err: unknown) => void;
}

export class WriterLease {
  readonly #o: LeaseOptions;
  #revision = 0;
  #term = 0;
  #validUntil = 0;
  #holder: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #ticking = false;

  constructor(options: LeaseOptions) {
    this.#o = options;
  }

  /** True while this node holds a lease it renewed recently enough that nobody else can hold it. */
  get held(): boolean {
    return this.#revision !== 0 && performance.now() < this.#validUntil;
  }
  get term(): number {
    return this.#term;
  }
  /** The node id that held the lease when last looked at (null: nobody, as far as this node knows). */
  get holder(): string | null {
    return this.held ? this.#o.nodeId : this.#holder;
  }

  /** Reads the lease key now: for a follower whose idea of the writer proved stale (or that has none yet). */
  async lookup(): Promise<string | null> {
    if (this.held) return this.#o.nodeId;
    const entry = await this.#o.kv.get(this.#o.key).catch(() => null);
    this.#holder = entry && entry.operation === "PUT" ? entry.string() : null;
    return this.#holder;
  }

  start(): void {
    void this.#tick();
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#ticking) return;
    this.#ticking = true;
    try {
      if (this.#revision === 0) await this.#tryAcquire();
      else await this.#renew();
    } catch (err) {
      this.#o.onError(err);
    } finally {
      this.#ticking = false;
      if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), Math.max(50, this.#o.ttlMs / 4));
    }
  }

  async #tryAcquire(): Promise<void> {
    const sentAt = performance.now();
    try {
      const revision = await this.#o.kv.create(this.#o.key, this.#o.nodeId);
      if (this.#stopped) {
        await this.#o.kv.delete(this.#o.key, { previousSeq: revision }).catch(() => undefined);
        return;
      }
      this.#revision = revision;
      this.#term = revision;
      this.#validUntil = sentAt + this.#o.ttlMs - this.#o.ttlMs / 4;
      this.#holder = this.#o.nodeId;
      this.#o.events.onAcquired(revision);
    } catch {
      // Someone holds it (or NATS is unreachable): remember who, for the NOT_WRITER answer.
      const entry = await this.#o.kv.get(this.#o.key).catch(() => null);
      this.#holder = entry && entry.operation === "PUT" ? entry.string() : null;
    }
  }

  async #renew(): Promise<void> {
    const sentAt = performance.now();
    try {
      // A renewal that arrives after our own deadline is already too late: someone may hold the key.
      if (sentAt >= this.#validUntil) throw new Error("the lease expired before it could be renewed");
      this.#revision = await this.#o.kv.update(this.#o.key, this.#o.nodeId, this.#revision);
      this.#validUntil = sentAt + this.#o.ttlMs - this.#o.ttlMs / 4;
    } catch (err) {
      this.#lose(`renewal failed: ${(err as Error).message}`);
    }
  }

  /** Gives the lease up (wrong last sequence seen, or shutting down): deleted by compare-and-set so a newer holder keeps it. */
  async stepDown(reason: string): Promise<void> {
    const revision = this.#revision;
    if (revision === 0) return;
    this.#lose(reason);
    await this.#o.kv.delete(this.#o.key, { previousSeq: revision }).catch(() => undefined);
  }

  #lose(reason: string): void {
    if (this.#revision === 0) return;
    this.#revision = 0;
    this.#validUntil = 0;
    this.#holder = null;
    this.#o.events.onLost(reason);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.stepDown("shutting down");
  }
}
