// Deadlines of queued change requests and which of them a provider poll has delivered (only undelivered ones expire).

import { DeadlineHeap } from "./ttl-heap.js";
import type { ChangeRequest } from "./types.js";

/**
 * Delivery is kept in memory only: after a restart every queued request counts as undelivered
 * again (as it is redelivered, at least once), so one delivered just before a restart may still
 * expire if its provider does not poll again before its deadline.
 */
export class RequestDeadlines {
  readonly #heap = new DeadlineHeap();
  readonly #names = new Map<number, string>();
  readonly #delivered = new Set<number>();

  get size(): number {
    return this.#names.size;
  }

  add(r: ChangeRequest): void {
    if (r.expiresAt === undefined) return;
    this.#heap.set(String(r.id), r.expiresAt);
    this.#names.set(r.id, r.name);
  }

  /** The request left the queue (acknowledged, expired or dropped with its register). */
  remove(id: number): void {
    this.#heap.delete(String(id));
    this.#names.delete(id);
    this.#delivered.delete(id);
  }

  /** A provider poll handed these requests out: from now on they wait for the provider, not the clock. */
  delivered(requests: readonly ChangeRequest[]): void {
    for (const r of requests) {
      if (!this.#names.has(r.id)) continue;
      this.#delivered.add(r.id);
      this.#heap.delete(String(r.id));
    }
  }

  isDelivered(id: number): boolean {
    return this.#delivered.has(id);
  }

  /** Undelivered requests whose deadline passed, grouped by register (ids ascending); at most `limit`. */
  due(now: number, limit: number): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const key of this.#heap.due(now, limit)) {
      const id = Number(key);
      const name = this.#names.get(id);
      if (name === undefined || this.#delivered.has(id)) continue;
      const list = out.get(name);
      if (list) list.push(id);
      else out.set(name, [id]);
    }
    for (const list of out.values()) list.sort((a, b) => a - b);
    return out;
  }
}
