// Everything the console knows about the registers: a name-sorted index fed by paged listings and live events.

import type { PendingRequest, Reg } from "./api.js";

export type StoreChange =
  | { readonly kind: "upsert"; readonly name: string; readonly created: boolean }
  | { readonly kind: "remove"; readonly name: string }
  | { readonly kind: "requests"; readonly name: string }
  | { readonly kind: "reset" };

export interface HandledRequest {
  readonly request: PendingRequest;
  readonly reason: string;
  readonly revision: number;
}

/** First index i with names[i] >= key (names sorted by UTF-16 code units, as the server sorts). */
export function lowerBound(names: readonly string[], key: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (names[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index range [from, to) of the names that start with `prefix`. */
export function prefixRange(names: readonly string[], prefix: string): [number, number] {
  const from = lowerBound(names, prefix);
  let to = from;
  if (prefix === "") return [0, names.length];
  // The first name past the prefix range: the prefix with its last code unit incremented.
  const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  to = lowerBound(names, next);
  return [from, to];
}

const HANDLED_KEPT = 20;

export class RegisterStore {
  readonly regs = new Map<string, Reg>();
  /** Every known name, sorted; kept sorted by binary-search inserts (pages arrive in order, so they append). */
  readonly names: string[] = [];
  readonly pending = new Map<string, PendingRequest[]>();
  readonly handled = new Map<string, HandledRequest[]>();
  /** When (performance.now) a live event last changed a register: the row flashes for a moment. */
  readonly changedAt = new Map<string, number>();
  revision = 0;
  /** How many full loads have run (1 after the first; a resync adds one). */
  loads = 0;
  loading = false;
  // Revision at which a name was deleted or expired: an older listing page must not bring it back.
  readonly #tombstones = new Map<string, number>();
  readonly #ackedUpTo = new Map<string, number>();
  readonly #listeners = new Set<(c: StoreChange) => void>();

  subscribe(fn: (c: StoreChange) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(c: StoreChange): void {
    for (const fn of this.#listeners) fn(c);
  }

  reset(): void {
    this.regs.clear();
    this.names.length = 0;
    this.#tombstones.clear();
    this.changedAt.clear();
    this.pending.clear();
    this.#emit({ kind: "reset" });
  }

  seen(revision: number): void {
    if (revision > this.revision) this.revision = revision;
  }

  /** A register from a listing page or a set event; an older copy than the one held is ignored. */
  upsert(reg: Reg, live: boolean): void {
    const held = this.regs.get(reg.name);
    if (held && held.modRevision >= reg.modRevision) return;
    const gone = this.#tombstones.get(reg.name);
    if (!held && gone !== undefined && reg.modRevision <= gone) return;
    this.#tombstones.delete(reg.name);
    this.regs.set(reg.name, reg);
    if (!held) {
      const last = this.names[this.names.length - 1];
      if (last === undefined || last < reg.name) this.names.push(reg.name);
      else this.names.splice(lowerBound(this.names, reg.name), 0, reg.name);
    }
    if (live) this.changedAt.set(reg.name, performance.now());
    this.#emit({ kind: "upsert", name: reg.name, created: !held });
  }

  remove(name: string, revision: number): void {
    this.#tombstones.set(name, revision);
    if (!this.regs.delete(name)) return;
    const i = lowerBound(this.names, name);
    if (this.names[i] === name) this.names.splice(i, 1);
    this.changedAt.delete(name);
    this.#emit({ kind: "remove", name });
  }

  /** The queue as GET /provider answered it, less anything an ack event already took away. */
  setPending(name: string, requests: readonly PendingRequest[]): void {
    const acked = this.#ackedUpTo.get(name) ?? 0;
    const byId = new Map((this.pending.get(name) ?? []).map((r) => [r.id, r]));
    for (const r of requests) if (r.id > acked) byId.set(r.id, r);
    this.pending.set(
      name,
      [...byId.values()].sort((a, b) => a.id - b.id),
    );
    this.#emit({ kind: "requests", name });
  }

  addRequest(r: PendingRequest): void {
    if (r.id <= (this.#ackedUpTo.get(r.name) ?? 0)) return;
    const list = this.pending.get(r.name) ?? [];
    if (!list.some((x) => x.id === r.id)) list.push(r);
    this.pending.set(r.name, list);
    this.#emit({ kind: "requests", name: r.name });
  }

  /** Every pending request of `name` with id <= upTo left the queue (acknowledged, or dropped with the register). */
  ack(name: string, upTo: number, reason: string, revision: number): void {
    if (upTo > (this.#ackedUpTo.get(name) ?? 0)) this.#ackedUpTo.set(name, upTo);
    const list = this.pending.get(name) ?? [];
    const left = list.filter((r) => r.id <= upTo);
    const keep = list.filter((r) => r.id > upTo);
    if (keep.length > 0) this.pending.set(name, keep);
    else this.pending.delete(name);
    if (left.length > 0) {
      const done = [...left.map((request) => ({ request, reason, revision })), ...(this.handled.get(name) ?? [])];
      this.handled.set(name, done.slice(0, HANDLED_KEPT));
    }
    this.#emit({ kind: "requests", name });
  }
}
