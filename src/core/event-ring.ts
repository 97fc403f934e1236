// A bounded ring of the latest events, in revision order, for resuming watches and SSE streams.

import type { SwitchboardEvent } from "./types.js";

export class EventRing {
  readonly #buf: (SwitchboardEvent | undefined)[];
  #start = 0;
  #length = 0;
  /** Highest revision ever dropped from the ring (0 when nothing was). */
  #droppedUpTo = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("event ring capacity must be >= 1");
    this.#buf = new Array(capacity);
  }

  get size(): number {
    return this.#length;
  }

  /**
   * True when every event with revision > `after` is still in the ring, i.e. a watcher resuming
   * from `after` can be told exactly what it missed.
   */
  covers(after: number): boolean {
    return after >= this.#droppedUpTo;
  }

  /** Marks revisions up to `revision` as not available (used after loading a snapshot). */
  forgetUpTo(revision: number): void {
    if (revision > this.#droppedUpTo) this.#droppedUpTo = revision;
  }

  push(event: SwitchboardEvent): void {
    if (this.#length === this.capacity) {
      const old = this.#buf[this.#start]!;
      this.#droppedUpTo = old.revision;
      this.#buf[this.#start] = event;
      this.#start = (this.#start + 1) % this.capacity;
      return;
    }
    this.#buf[(this.#start + this.#length) % this.capacity] = event;
    this.#length++;
  }

  #at(i: number): SwitchboardEvent {
    return this.#buf[(this.#start + i) % this.capacity]!;
  }

  /** Index of the first event with revision > after (binary search). */
  #firstAfter(after: number): number {
    let lo = 0;
    let hi = this.#length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#at(mid).revision <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Events with revision > after, oldest first. */
  *since(after: number): Generator<SwitchboardEvent> {
    for (let i = this.#firstAfter(after); i < this.#length; i++) yield this.#at(i);
  }
}
