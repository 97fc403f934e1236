// The register state machine: applies mutations synchronously, for live writes and for replay alike.

import { DeadlineHeap } from "./ttl-heap.js";
import { type ChangeRequest, isEvent, type Mutation, type Register, type Snapshot } from "./types.js";

export class RegisterState {
  readonly registers = new Map<string, Register>();
  /** FIFO change-request queues, only for registers that have pending requests. */
  readonly queues = new Map<string, ChangeRequest[]>();
  readonly deadlines = new DeadlineHeap();
  /** Last applied revision and request id. */
  revision = 0;
  lastRequestId = 0;
  /** The data set's history id, as the store loaded it (see LoadResult.epoch). */
  epoch = "";
  queuedRequests = 0;
  /** Queued request id → when a provider poll first handed it out (persisted by `deliver` mutations). */
  readonly delivered = new Map<number, number>();
  #sorted: string[] | null = [];

  static fromSnapshot(s: Snapshot): RegisterState {
    const st = new RegisterState();
    st.revision = s.revision;
    st.lastRequestId = s.lastRequestId;
    for (const r of s.registers) {
      st.registers.set(r.name, r);
      if (r.expiresAt !== null) st.deadlines.set(r.name, r.expiresAt);
    }
    st.#sorted = null;
    const reqs = [...s.requests].sort((a, b) => a.id - b.id);
    for (const q of reqs) {
      // The delivery time lives beside the queue (as live), not in the request.
      const { deliveredAt, ...request } = q;
      st.#enqueue(deliveredAt === undefined ? q : request);
      if (deliveredAt !== undefined) st.delivered.set(q.id, deliveredAt);
    }
    return st;
  }

  snapshot(): Snapshot {
    const requests: ChangeRequest[] = [];
    for (const q of this.queues.values()) {
      for (const r of q) {
        const at = this.delivered.get(r.id);
        requests.push(at === undefined ? r : { ...r, deliveredAt: at });
      }
    }
    return {
      epoch: this.epoch,
      revision: this.revision,
      lastRequestId: this.lastRequestId,
      registers: [...this.registers.values()],
      requests,
    };
  }

  /** Applies one mutation. Events at or below the current revision were already applied (replay overlap) and are skipped. */
  apply(m: Mutation): void {
    if (isEvent(m)) {
      if (m.revision <= this.revision) return;
      this.revision = m.revision;
    }
    switch (m.type) {
      case "set": {
        if (!this.registers.has(m.name)) this.#sorted = null;
        this.registers.set(m.name, m.register);
        if (m.register.expiresAt === null) this.deadlines.delete(m.name);
        else this.deadlines.set(m.name, m.register.expiresAt);
        return;
      }
      case "delete":
      case "expire": {
        if (this.registers.delete(m.name)) this.#sorted = null;
        this.deadlines.delete(m.name);
        return;
      }
      case "request": {
        this.#enqueue(m.request);
        return;
      }
      case "ack": {
        const q = this.queues.get(m.name);
        if (!q) return;
        if (m.ids !== undefined) {
          const gone = new Set(m.ids);
          for (const id of gone) this.delivered.delete(id);
          const kept = q.filter((r) => !gone.has(r.id));
          this.queuedRequests -= q.length - kept.length;
          if (kept.length === 0) this.queues.delete(m.name);
          else this.queues.set(m.name, kept);
          return;
        }
        let n = 0;
        while (n < q.length && q[n]!.id <= m.upTo) this.delivered.delete(q[n++]!.id);
        if (n === 0) return;
        q.splice(0, n);
        this.queuedRequests -= n;
        if (q.length === 0) this.queues.delete(m.name);
        return;
      }
      case "deliver": {
        const ids = new Set(m.ids);
        for (const r of this.queues.get(m.name) ?? []) {
          if (ids.has(r.id) && !this.delivered.has(r.id)) this.delivered.set(r.id, m.at);
        }
        return;
      }
      case "finish":
        return;
      case "refresh": {
        const r = this.registers.get(m.name);
        if (!r) return;
        const { ttlMs: _old, ...rest } = r;
        const ttlMs = m.expiresAt === null ? undefined : (m.ttlMs ?? r.ttlMs);
        this.registers.set(
          m.name,
          ttlMs === undefined ? { ...rest, expiresAt: m.expiresAt } : { ...rest, expiresAt: m.expiresAt, ttlMs },
        );
        if (m.expiresAt === null) this.deadlines.delete(m.name);
        else this.deadlines.set(m.name, m.expiresAt);
        return;
      }
    }
  }

  #enqueue(req: ChangeRequest): void {
    let q = this.queues.get(req.name);
    if (!q) {
      q = [];
      this.queues.set(req.name, q);
    }
    q.push(req);
    this.queuedRequests++;
    if (req.id > this.lastRequestId) this.lastRequestId = req.id;
  }

  /** Register names in sorted order (sorted lazily after creations/deletions). */
  sortedNames(): readonly string[] {
    if (this.#sorted === null) this.#sorted = [...this.registers.keys()].sort();
    return this.#sorted;
  }

  /** Names under a prefix, sorted, starting after `after` (exclusive) when given. */
  *namesWithPrefix(prefix: string, after?: string): Generator<string> {
    const names = this.sortedNames();
    const from = after !== undefined && after >= prefix ? after : prefix;
    let lo = 0;
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const n = names[mid]!;
      if (n < from || (after !== undefined && n === after)) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < names.length; i++) {
      const n = names[i]!;
      if (!n.startsWith(prefix)) break;
      yield n;
    }
  }
}
