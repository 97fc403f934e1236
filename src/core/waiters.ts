// Waiters indexed by register name and by prefix, so that a change wakes only those that watch it.

import type { SwitchboardEvent } from "./types.js";
import type { Where } from "./where.js";

export type WaitOutcome =
  | { readonly reason: "change"; readonly event: SwitchboardEvent; readonly changedAt: number }
  | { readonly reason: "timeout" }
  | { readonly reason: "aborted" }
  | { readonly reason: "closed" };

export interface Waiter {
  readonly names: readonly string[];
  readonly prefixes: readonly string[];
  /** Settled by a change only when the change matches (conditional wakes). */
  readonly where?: Where;
  /** Called at most once, by whoever settles the waiter first. */
  settle(outcome: WaitOutcome): void;
}

/**
 * Lookups cost O(len(name)) map probes at most — only prefix lengths in use are probed — and
 * never a scan of all waiters.
 */
export class WaiterIndex {
  readonly #byName = new Map<string, Set<Waiter>>();
  readonly #byPrefix = new Map<string, Set<Waiter>>();
  /** prefix length -> number of distinct prefixes of that length in the index */
  readonly #prefixLengths = new Map<number, number>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(w: Waiter): void {
    for (const n of w.names) addTo(this.#byName, n, w);
    for (const p of w.prefixes) {
      if (addTo(this.#byPrefix, p, w)) this.#prefixLengths.set(p.length, (this.#prefixLengths.get(p.length) ?? 0) + 1);
    }
    this.#size++;
  }

  remove(w: Waiter): void {
    for (const n of w.names) removeFrom(this.#byName, n, w);
    for (const p of w.prefixes) {
      if (removeFrom(this.#byPrefix, p, w)) {
        const c = (this.#prefixLengths.get(p.length) ?? 1) - 1;
        if (c === 0) this.#prefixLengths.delete(p.length);
        else this.#prefixLengths.set(p.length, c);
      }
    }
    this.#size--;
  }

  /** Every waiter watching `name` (by name or by a prefix of it), each once. */
  match(name: string): Set<Waiter> {
    const out = new Set<Waiter>();
    const direct = this.#byName.get(name);
    if (direct) for (const w of direct) out.add(w);
    for (const len of this.#prefixLengths.keys()) {
      if (len > name.length) continue;
      const set = this.#byPrefix.get(name.slice(0, len));
      if (set) for (const w of set) out.add(w);
    }
    return out;
  }

  /** Every waiter, for shutdown. */
  all(): Set<Waiter> {
    const out = new Set<Waiter>();
    for (const set of this.#byName.values()) for (const w of set) out.add(w);
    for (const set of this.#byPrefix.values()) for (const w of set) out.add(w);
    return out;
  }
}

/** Returns true when the key was new. */
function addTo(map: Map<string, Set<Waiter>>, key: string, w: Waiter): boolean {
  const set = map.get(key);
  if (set) {
    set.add(w);
    return false;
  }
  map.set(key, new Set([w]));
  return true;
}

/** Returns true when the key is gone. */
function removeFrom(map: Map<string, Set<Waiter>>, key: string, w: Waiter): boolean {
  const set = map.get(key);
  if (!set) return false;
  set.delete(w);
  if (set.size === 0) {
    map.delete(key);
    return true;
  }
  return false;
}
