// Batches the provider writes of a client into one PUT /provider at a time, retrying network errors and 5xx.

import type { Connection } from "./connection.js";
import { abortError, ClientError, isRetryable } from "./errors.js";
import type { Transport } from "./http.js";
import { Backoff, type Runtime } from "./runtime.js";
import type { RegisterWrite, RetryOptions, WriteAnswer, WriteResult } from "./types.js";

/** The server's default batch limit (maxBatch): larger queues go out in several PUTs, one after another. */
export const MAX_BATCH = 1000;

interface Pending {
  write: RegisterWrite;
  /** A retry must go out by then (epoch ms): the register's TTL runs out soon after. */
  deadline: number | undefined;
  waiters: { resolve: (r: WriteResult) => void; reject: (e: unknown) => void }[];
}

export interface WriterOptions {
  readonly transport: Transport;
  readonly runtime: Runtime;
  readonly closed: AbortSignal;
  readonly retry: RetryOptions | undefined;
  readonly connection: Connection;
}

/**
 * Writes queued in the same tick (and while a PUT is in flight) go out together, one PUT at a time, so two
 * writes of one register never race. A batch is all-or-nothing at the server: when one comes back 4xx it is
 * split and each write is sent alone, so the error reaches the write that caused it.
 */
export class Writer {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private flushing: Promise<void> | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly o: WriterOptions) {
    this.backoff = new Backoff(o.retry, o.runtime.random);
  }

  /**
   * Queues a write; a later write of the same register in the same batch replaces it (both promises
   * settle). `deadline`: retries after failures go out no later than this (epoch ms).
   */
  write(w: RegisterWrite, deadline?: number): Promise<WriteResult> {
    if (this.o.closed.aborted) return Promise.reject(abortError(this.o.closed.reason));
    return new Promise((resolve, reject) => {
      const old = this.pending.get(w.name);
      // Keep the metadata of a replaced write unless the newer one brings its own.
      const merged =
        old?.write.metadata !== undefined && w.metadata === undefined ? { ...w, metadata: old.write.metadata } : w;
      this.pending.delete(w.name);
      this.pending.set(w.name, {
        write: merged,
        deadline: earliest(old?.deadline, deadline),
        waiters: [...(old?.waiters ?? []), { resolve, reject }],
      });
      this.schedule();
    });
  }

  /**
   * Sends one write on its own PUT after the writes queued before it (a compare-and-set must not
   * be merged with another write of its register). Not retried: a retry could apply it twice.
   */
  async writeAlone(w: RegisterWrite): Promise<WriteResult> {
    if (this.o.closed.aborted) throw abortError(this.o.closed.reason);
    while (this.flushing || this.scheduled) await (this.flushing ?? Promise.resolve());
    const answer = await this.put([w]);
    const r = answer.registers.find((x) => x.name === w.name);
    if (!r) throw new ClientError(200, "BAD_ANSWER", `PUT /provider did not answer for ${w.name}`);
    return r;
  }

  /** Drops the queued writes of `name` (their promises reject) and waits for a PUT in flight to finish. */
  async cancel(name: string, reason: unknown): Promise<void> {
    const p = this.pending.get(name);
    if (p) {
      this.pending.delete(name);
      for (const w of p.waiters) w.reject(reason);
    }
    await this.flushing;
  }

  /** Rejects everything queued; the client's `closed` signal aborts the PUT in flight. */
  async close(): Promise<void> {
    this.rejectAll([...this.pending.values()], abortError(this.o.closed.reason));
    this.pending.clear();
    await this.flushing;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.size > 0 && !this.o.closed.aborted) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0 && !this.o.closed.aborted) {
      // The batch is taken from the front; entries left behind keep their place for the next PUT.
      const batch: Pending[] = [];
      for (const [name, p] of this.pending) {
        if (batch.length === MAX_BATCH) break;
        batch.push(p);
        this.pending.delete(name);
      }
      try {
        const answer = await this.put(batch.map((b) => b.write));
        this.settle(batch, answer);
        this.backoff.reset();
      } catch (err) {
        if (this.o.closed.aborted) {
          this.rejectAll(batch, abortError(this.o.closed.reason));
          return;
        }
        if (isRetryable(err)) {
          this.requeue(batch);
          await this.pause(err, batch);
        } else if (batch.length === 1) {
          this.rejectAll(batch, err);
        } else {
          // Send the writes alone (through the queue, so newer writes of the same register still win).
          for (const b of batch) this.requeueAlone(b);
          await this.flushAlone();
        }
      }
    }
    if (this.o.closed.aborted) this.rejectAll([...this.pending.values()], abortError(this.o.closed.reason));
  }

  private readonly alone: Pending[] = [];

  private requeueAlone(b: Pending): void {
    if (this.pending.has(b.write.name)) {
      this.mergeInto(b);
      return;
    }
    this.alone.push(b);
  }

  private async flushAlone(): Promise<void> {
    while (this.alone.length > 0 && !this.o.closed.aborted) {
      const b = this.alone[0]!;
      try {
        this.settle([b], await this.put([b.write]));
        this.alone.shift();
      } catch (err) {
        if (this.o.closed.aborted) break;
        if (isRetryable(err)) {
          await this.pause(err, [b]);
          continue;
        }
        this.alone.shift();
        this.rejectAll([b], err);
      }
    }
    this.rejectAll(this.alone.splice(0), abortError(this.o.closed.reason));
  }

  /**
   * The backoff before a retry, cut short so that the retry goes out before the earliest deadline of
   * the writes it carries (their TTL would run out otherwise), and ended early when another loop
   * finds the server answering again.
   */
  private async pause(err: unknown, batch: readonly Pending[]): Promise<void> {
    const now = this.o.runtime.now();
    let delay = this.backoff.next((err as ClientError).retryAfterMs);
    let deadline: number | undefined;
    for (const b of batch) deadline = earliest(deadline, b.deadline);
    if (deadline !== undefined && deadline > now) delay = Math.min(delay, deadline - now);
    this.o.connection.retrying(now + delay);
    await this.o.connection.sleep(delay, this.o.closed);
  }

  private put(writes: RegisterWrite[]): Promise<WriteAnswer> {
    return this.o.transport.call<WriteAnswer>("PUT", "/provider", {
      body: { registers: writes },
      signal: this.o.closed,
      timeoutMs: 30_000,
    });
  }

  private settle(batch: readonly Pending[], answer: WriteAnswer): void {
    const byName = new Map(answer.registers.map((r) => [r.name, r]));
    for (const b of batch) {
      const r = byName.get(b.write.name);
      if (r) for (const w of b.waiters) w.resolve(r);
      else {
        const err = new ClientError(200, "BAD_ANSWER", `PUT /provider did not answer for ${b.write.name}`);
        for (const w of b.waiters) w.reject(err);
      }
    }
  }

  /** Puts a failed batch back in front of anything queued meanwhile; a newer write of a register wins. */
  private requeue(batch: readonly Pending[]): void {
    const newer = this.pending;
    this.pending = new Map(batch.map((b) => [b.write.name, b]));
    for (const [name, p] of newer) {
      const old = this.pending.get(name);
      if (old) {
        this.pending.delete(name);
        p.waiters.unshift(...old.waiters);
        p.deadline = earliest(p.deadline, old.deadline);
        if (p.write.metadata === undefined && old.write.metadata !== undefined) {
          p.write = { ...p.write, metadata: old.write.metadata };
        }
      }
      this.pending.set(name, p);
    }
  }

  private mergeInto(b: Pending): void {
    const p = this.pending.get(b.write.name)!;
    p.waiters.unshift(...b.waiters);
    p.deadline = earliest(p.deadline, b.deadline);
    if (p.write.metadata === undefined && b.write.metadata !== undefined)
      p.write = { ...p.write, metadata: b.write.metadata };
  }

  private rejectAll(batch: readonly Pending[], err: unknown): void {
    for (const b of batch) for (const w of b.waiters) w.reject(err);
  }
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
