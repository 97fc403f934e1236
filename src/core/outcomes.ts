// What became of each change request (pending → delivered → done | rejected | failed | expired | dropped), kept for a while.

import type { Clock, TimerHandle } from "./ports.js";
import type { AckReason, ChangeRequest, FinishedOutcome, Json, SwitchboardEvent } from "./types.js";

export type OutcomeStatus = "pending" | "delivered" | "done" | "rejected" | "failed" | "expired" | "dropped";
/** What a provider may report. */
export type ReportedStatus = "done" | "rejected" | "failed";

export interface Outcome {
  readonly id: number;
  readonly name: string;
  readonly status: OutcomeStatus;
  readonly requestedAt: number;
  readonly requester?: string;
  readonly requestKey?: string;
  /** When it reached a final status (epoch ms). */
  readonly finishedAt?: number;
  readonly result?: Json;
  readonly message?: string;
}

/** The final status of requests that left the queue for this reason, unless the provider reported one. */
export function statusOfReason(reason: AckReason): OutcomeStatus {
  return reason === "acknowledged" ? "done" : reason === "request_expired" ? "expired" : "dropped";
}

/** The outcome of each request an ack event names in `ids` (acks from older data without ids name none). */
export function outcomesOf(
  e: SwitchboardEvent,
): { id: number; status: OutcomeStatus; result?: Json; message?: string }[] {
  if (e.type !== "ack" || e.ids === undefined) return [];
  const reported = new Map((e.outcomes ?? []).map((o) => [o.id, o]));
  return e.ids.map((id) => reported.get(id) ?? { id, status: statusOfReason(e.reason) });
}

export function isFinal(s: OutcomeStatus): boolean {
  return s !== "pending" && s !== "delivered";
}

/**
 * Outcomes are for apps waiting on their own requests, not a log. A request's outcome is kept
 * while it is queued and for `historyMs` after it became final. The store itself is in memory;
 * what makes it survive a restart is the state: each ack persists the final outcomes it produced
 * (and compaction snapshots the history), and a delivery is a persisted `deliver` mutation, so
 * `open()` restores both before anyone asks.
 */
export class OutcomeStore {
  readonly #byId = new Map<number, Outcome>();
  /** Final outcomes in the order they finished, for pruning. */
  readonly #finished: number[] = [];
  readonly #waiters = new Map<number, Set<(o: Outcome) => void>>();
  /** register name + NUL + requestKey → request id, for as long as the outcome is kept. */
  readonly #byKey = new Map<string, number>();
  readonly #keyOf = new Map<number, string>();

  constructor(
    private readonly clock: Clock,
    private readonly historyMs: number,
  ) {}

  get(id: number): Outcome | undefined {
    this.#prune();
    return this.#byId.get(id);
  }

  /** The request made earlier with this key for this register, while its outcome is kept. */
  byKey(name: string, key: string): Outcome | undefined {
    this.#prune();
    const id = this.#byKey.get(`${name}\0${key}`);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  queued(r: ChangeRequest, delivered = false): void {
    if (r.requestKey !== undefined) {
      const k = `${r.name}\0${r.requestKey}`;
      this.#byKey.set(k, r.id);
      this.#keyOf.set(r.id, k);
    }
    this.#byId.set(r.id, {
      id: r.id,
      name: r.name,
      status: delivered ? "delivered" : "pending",
      requestedAt: r.requestedAt,
      ...(r.requester === undefined ? {} : { requester: r.requester }),
      ...(r.requestKey === undefined ? {} : { requestKey: r.requestKey }),
    });
  }

  /** Final outcomes loaded from storage (any order); those older than the history are dropped at once. */
  restore(list: Iterable<FinishedOutcome>): void {
    for (const o of [...list].sort((a, b) => a.finishedAt - b.finishedAt)) {
      if (this.#byId.has(o.id)) continue;
      if (o.requestKey !== undefined) {
        const k = `${o.name}\0${o.requestKey}`;
        this.#byKey.set(k, o.id);
        this.#keyOf.set(o.id, k);
      }
      this.#byId.set(o.id, o);
      this.#finished.push(o.id);
    }
    this.#prune();
  }

  /** The final outcomes still kept, oldest first (for snapshots). */
  finishedList(): FinishedOutcome[] {
    this.#prune();
    const out: FinishedOutcome[] = [];
    for (const id of this.#finished) {
      const o = this.#byId.get(id);
      if (o?.finishedAt !== undefined && isFinal(o.status)) out.push(o as FinishedOutcome);
    }
    return out;
  }

  delivered(ids: readonly number[]): void {
    for (const id of ids) {
      const o = this.#byId.get(id);
      if (o && o.status === "pending") this.#byId.set(id, { ...o, status: "delivered" });
    }
  }

  finish(
    id: number,
    status: OutcomeStatus,
    extra: { result?: Json; message?: string } = {},
    at = this.clock.now(),
  ): Outcome | undefined {
    const o = this.#byId.get(id);
    if (!o || isFinal(o.status)) return undefined;
    const done: Outcome = { ...o, status, finishedAt: at, ...extra };
    this.#byId.set(id, done);
    this.#finished.push(id);
    const ws = this.#waiters.get(id);
    if (ws) {
      this.#waiters.delete(id);
      for (const w of ws) w(done);
    }
    this.#prune();
    return done;
  }

  /** Resolves with the final outcome, or the current one when the wait ends first. */
  wait(id: number, timeoutMs: number, signal?: AbortSignal): Promise<Outcome | undefined> {
    const now = this.get(id);
    if (!now || isFinal(now.status) || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(now);
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const end = (o: Outcome | undefined) => {
        const set = this.#waiters.get(id);
        set?.delete(w);
        if (set?.size === 0) this.#waiters.delete(id);
        if (timer !== undefined) this.clock.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(o);
      };
      const w = (o: Outcome) => end(o);
      const onAbort = () => end(this.#byId.get(id));
      timer = this.clock.setTimeout(() => end(this.#byId.get(id)), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      let set = this.#waiters.get(id);
      if (!set) {
        set = new Set();
        this.#waiters.set(id, set);
      }
      set.add(w);
    });
  }

  /** Ends every wait with the current outcome (shutdown). */
  closeAll(): void {
    for (const [id, ws] of [...this.#waiters]) {
      const o = this.#byId.get(id);
      for (const w of [...ws]) if (o) w(o);
    }
  }

  get waiting(): number {
    let n = 0;
    for (const ws of this.#waiters.values()) n += ws.size;
    return n;
  }

  #prune(): void {
    const cutoff = this.clock.now() - this.historyMs;
    let n = 0;
    while (n < this.#finished.length) {
      const o = this.#byId.get(this.#finished[n]!);
      if (o?.finishedAt !== undefined && o.finishedAt > cutoff) break;
      if (o) {
        this.#byId.delete(o.id);
        const k = this.#keyOf.get(o.id);
        if (k !== undefined) {
          this.#keyOf.delete(o.id);
          if (this.#byKey.get(k) === o.id) this.#byKey.delete(k);
        }
      }
      n++;
    }
    if (n > 0) this.#finished.splice(0, n);
  }
}
