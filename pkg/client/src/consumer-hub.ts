// The one shared consumer long-poll of a client: every subscription rides on the same GET /consumer.

import type { Connection } from "./connection.js";
import { ClientError, isRetryable } from "./errors.js";
import type { Query, Transport } from "./http.js";
import { Backoff, Latch, linkAbort, type Runtime, SpinGuard, sleep } from "./runtime.js";
import type { SubscriptionImpl } from "./subscription.js";
import type { ConsumerAnswer, RetryOptions } from "./types.js";

export interface HubOptions {
  readonly transport: Transport;
  readonly runtime: Runtime;
  /** Aborted when the client closes. */
  readonly closed: AbortSignal;
  readonly waitMs: number;
  readonly debounceMs: number;
  readonly retry: RetryOptions | undefined;
  readonly connection: Connection;
}

/** What a consumer hub adds: the wake filter its poll carries, and what to do when it has nobody left. */
export interface ConsumerHubOptions extends HubOptions {
  /** Canonical JSON of the `where` filter of every subscription of this hub (none: unfiltered). */
  readonly where?: string | undefined;
  /** A filtered hub whose last subscription left stops its loop and says so (the client forgets it). */
  readonly onIdle?: ((hub: ConsumerHub) => void) | undefined;
}

/**
 * The `where` filter of a subscription as the key of its shared poll: JSON with object keys sorted
 * at every level, so equal filters share one poll. Anything but a plain JSON object is
 * ClientError INVALID_FILTER (the server's code), before anything is sent.
 */
export function canonicalWhere(where: unknown): string {
  if (typeof where !== "object" || where === null || Array.isArray(where)) {
    throw new ClientError(400, "INVALID_FILTER", "where must be a JSON object (a Mongo-style filter)", {
      details: { where },
    });
  }
  const text = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : text(x))).join(",")}]`;
    if (typeof v === "object" && v !== null) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${text(o[k])}`).join(",")}}`;
    }
    if (typeof v === "number" && !Number.isFinite(v)) return "null";
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null)
      return JSON.stringify(v);
    throw new ClientError(400, "INVALID_FILTER", `where holds a ${typeof v}, which JSON cannot carry`, {
      details: { where },
    });
  };
  return text(where);
}

/** The abort reason of a long-poll cut short because the set of subscriptions changed. */
const RESTART = Symbol("restart");

/** The client's own bound on a held poll: the server's wait, its jitter (≤ wait/16) and a margin. */
export function guardMs(waitMs: number): number {
  return waitMs + Math.ceil(waitMs / 8) + 10_000;
}

/**
 * One shared long-poll for the subscriptions of one `where` filter (or of none): a filter goes on
 * the poll, so subscriptions with different filters cannot share one; the client keeps a hub per
 * distinct filter.
 */
export class ConsumerHub {
  private readonly subs = new Set<SubscriptionImpl>();
  /** Every change after this revision is still to be seen by the initialised subscriptions. */
  private index: number | undefined;
  /** The history `index` belongs to; sent with it so that the server can tell a foreign index. */
  private epoch: string | undefined;
  /** The server's history changed: every subscription reads the full state again. */
  private resyncAll = false;
  private readonly latch = new Latch();
  private longPoll: AbortController | undefined;
  private debounce: unknown;
  private loop: Promise<void> | undefined;
  /** Generation of the latest first-state read, and the newest generation a held poll has served. */
  private generation = 0;
  private servedGeneration = 0;

  constructor(private readonly o: ConsumerHubOptions) {}

  get size(): number {
    return this.subs.size;
  }

  add(sub: SubscriptionImpl): void {
    this.subs.add(sub);
    this.scheduleRestart();
    this.loop ??= this.run();
  }

  remove(sub: SubscriptionImpl): void {
    if (this.subs.delete(sub)) this.scheduleRestart();
  }

  /** Ends every subscription and waits for the loop to leave; the client's `closed` signal is already aborted. */
  async close(): Promise<void> {
    if (this.debounce !== undefined) this.o.runtime.timers.clearTimeout(this.debounce);
    this.debounce = undefined;
    this.latch.wake();
    for (const sub of [...this.subs]) sub.close();
    await this.loop;
  }

  /** Membership changes are gathered for `debounceMs`, then the held poll is cut and restarted once. */
  private scheduleRestart(): void {
    if (this.debounce !== undefined || this.o.closed.aborted) return;
    this.debounce = this.o.runtime.timers.setTimeout(() => {
      this.debounce = undefined;
      this.longPoll?.abort(RESTART);
      this.latch.wake();
    }, this.o.debounceMs);
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(this.o.retry, this.o.runtime.random);
    const spin = new SpinGuard(this.o.retry?.initialMs ?? 250, this.o.runtime.random);
    while (!this.o.closed.aborted) {
      if (this.debounce !== undefined) {
        // Membership is changing: gather the rest of the changes before asking the server anything.
        await this.latch.wait();
        continue;
      }
      if (this.subs.size === 0) {
        this.index = undefined; // nothing is watched: the next subscriptions start from a fresh read
        if (this.o.where !== undefined) {
          // A filter nobody uses any more: stop, so that a client trying many filters keeps no idle loops.
          this.loop = undefined;
          this.o.onIdle?.(this);
          return;
        }
        await this.latch.wait();
        continue;
      }
      const resyncAll = this.resyncAll;
      const recovering = backoff.failures > 0;
      const fresh = resyncAll ? [...this.subs] : [...this.subs].filter((s) => !s.initialized);
      const batch = fresh.length > 0 ? fresh : [...this.subs];
      try {
        if (fresh.length > 0) {
          // New subscriptions first get the current state at once; the long-poll then goes on from the
          // older of the two indexes so the subscriptions already running miss nothing in between.
          const answer = await this.get(batch, undefined, undefined);
          if (this.newHistory(answer.epoch) && !resyncAll) continue; // read everything again, below
          this.generation += 1;
          for (const sub of batch) sub.generation = this.generation;
          this.dispatch(answer, batch, resyncAll);
          this.index = this.index === undefined || resyncAll ? answer.index : Math.min(this.index, answer.index);
          this.epoch = answer.epoch;
          if (resyncAll) this.resyncAll = false;
        } else {
          const sent = { index: this.index ?? 0, at: this.o.runtime.now() };
          // After a failure the first poll is not held, so that an answer (and the server's epoch) comes at once.
          const answer = await this.get(batch, this.index, recovering ? 0 : this.o.waitMs);
          if (this.newHistory(answer.epoch)) continue;
          this.dispatch(answer, batch);
          this.index = answer.index;
          this.servedGeneration = this.generation;
          const quick = !recovering && this.o.runtime.now() - sent.at < this.o.waitMs / 2;
          const pause = spin.pause(answer.index > sent.index, quick);
          if (pause > 0) await sleep(this.o.runtime, pause, this.o.closed);
        }
        backoff.reset();
      } catch (err) {
        if (this.o.closed.aborted) break;
        if (err === RESTART) continue;
        if (isRetryable(err)) {
          const delay = backoff.next((err as { retryAfterMs?: number }).retryAfterMs);
          this.o.connection.retrying(this.o.runtime.now() + delay);
          await this.o.connection.sleep(delay, this.o.closed);
          continue;
        }
        // A 4xx is not going to heal by retrying: end the subscriptions of the failed request. When a held
        // poll fails that worked before the latest subscriptions joined (say TOO_MANY_NAMES), only those fail.
        const newcomers = fresh.length > 0 ? [] : batch.filter((sub) => sub.generation > this.servedGeneration);
        for (const sub of newcomers.length > 0 ? newcomers : batch) sub.fail(err);
      }
    }
  }

  /**
   * True when an answer comes from another history than the hub's index: that index (and every
   * revision the subscriptions hold) means nothing there, so the next round reads every
   * subscription's full state again and the poll goes on from that answer's index.
   */
  private newHistory(epoch: string | undefined): boolean {
    if (epoch === undefined || this.epoch === undefined || epoch === this.epoch) return false;
    this.epoch = undefined;
    this.index = undefined;
    this.resyncAll = true;
    return true;
  }

  private async get(
    batch: readonly SubscriptionImpl[],
    index: number | undefined,
    waitMs: number | undefined,
  ): Promise<ConsumerAnswer> {
    const names = new Set<string>();
    const prefixes = new Set<string>();
    for (const s of batch) {
      if (s.selection.kind === "name") names.add(s.selection.name);
      else prefixes.add(s.selection.prefix);
    }
    const query: [string, string | number | undefined][] = [];
    for (const n of names) query.push(["name", n]);
    for (const p of prefixes) query.push(["prefix", p]);
    query.push(["index", index]);
    if (index !== undefined && waitMs !== undefined) query.push(["wait", `${waitMs}ms`]);
    if (index !== undefined && this.epoch !== undefined) query.push(["epoch", this.epoch]);
    // A prefix's answer after an index holds only what changed (a resync still answers everything);
    // subscriptions apply entries one by one, so the registers left out are simply unchanged. With a
    // filter, names too: only the registers whose change matched (and removals) come back.
    const where = this.o.where;
    if (index !== undefined && (prefixes.size > 0 || where !== undefined)) query.push(["changes", "only"]);
    if (where !== undefined) query.push(["where", where]);
    const held = index !== undefined && waitMs !== undefined;
    const controller = new AbortController();
    const unlink = linkAbort(this.o.closed, controller);
    if (held) this.longPoll = controller;
    try {
      return await this.o.transport.call<ConsumerAnswer>("GET", "/consumer", {
        query: query as Query,
        signal: controller.signal,
        timeoutMs: guardMs(waitMs ?? 0),
      });
    } finally {
      if (this.longPoll === controller) this.longPoll = undefined;
      unlink();
    }
  }

  private dispatch(answer: ConsumerAnswer, batch: readonly SubscriptionImpl[], newHistory = false): void {
    const byName = new Map<string, SubscriptionImpl[]>();
    const byPrefix: SubscriptionImpl[] = [];
    const entries = new Map<SubscriptionImpl, ConsumerAnswer["registers"][number][]>();
    for (const s of batch) {
      if (s.closed) continue;
      entries.set(s, []);
      if (s.selection.kind === "prefix") byPrefix.push(s);
      else {
        const list = byName.get(s.selection.name);
        if (list) list.push(s);
        else byName.set(s.selection.name, [s]);
      }
    }
    for (const r of answer.registers) {
      for (const s of byName.get(r.name) ?? []) entries.get(s)?.push(r);
      for (const s of byPrefix) if (s.matches(r.name)) entries.get(s)?.push(r);
    }
    const resync = answer.resync === true || newHistory;
    for (const [s, list] of entries) s.deliver(list, answer.index, resync, newHistory);
  }
}
