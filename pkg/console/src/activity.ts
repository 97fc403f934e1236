// The live event log: a bounded ring of recent events and per-second counts for the rate sparkline.

export interface LogEntry {
  readonly seq: number;
  /** Epoch ms at which the console received it. */
  readonly at: number;
  readonly type: string;
  readonly name: string;
  readonly revision: number;
  readonly detail: string;
}

const KEPT = 5000;
/** Seconds of history behind the sparkline. */
export const RATE_WINDOW = 60;

export class ActivityLog {
  /** Newest last. */
  readonly entries: LogEntry[] = [];
  #seq = 0;
  // counts[i] is the number of events in second `second - (RATE_WINDOW - 1) + i`.
  #counts = new Array<number>(RATE_WINDOW).fill(0);
  #second = Math.floor(Date.now() / 1000);
  readonly #listeners = new Set<() => void>();

  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  push(type: string, name: string, revision: number, detail: string): void {
    const at = Date.now();
    this.entries.push({ seq: ++this.#seq, at, type, name, revision, detail });
    if (this.entries.length > KEPT) this.entries.splice(0, this.entries.length - KEPT);
    this.#advance(at);
    this.#counts[RATE_WINDOW - 1]!++;
    for (const fn of this.#listeners) fn();
  }

  /** Events per second over the last RATE_WINDOW seconds, oldest first. */
  rates(now = Date.now()): number[] {
    this.#advance(now);
    return [...this.#counts];
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    const shift = Math.min(RATE_WINDOW, second - this.#second);
    if (shift <= 0) return;
    this.#counts.splice(0, shift);
    for (let i = 0; i < shift; i++) this.#counts.push(0);
    this.#second = second;
  }
}
