// Runs the health checks on a schedule: one timer per target on the injected clock, jittered, through a bounded p-queue.

import PQueue from "p-queue";
import type { Clock, Switchboard, SwitchboardEvent, TimerHandle } from "../../core/index.js";
import { SERVICES_PREFIX } from "../discovery.js";
import { REGISTRY_PREFIX } from "../registry/record.js";
import type { HealthChecker } from "./checker.js";
import { isCheckable, targetOf } from "./target.js";

export interface HealthSchedulerOptions {
  readonly core: Switchboard;
  readonly checker: HealthChecker;
  readonly clock: Clock;
  /** Period between two checks of one target, ms. */
  readonly intervalMs: number;
  /** Probes running at once. */
  readonly concurrency: number;
  /** Random source of the jitter (tests seed it). */
  readonly random?: () => number;
}

interface Entry {
  timer: TimerHandle | undefined;
  /** The target's shape when last scheduled: a new endpoint is checked at once. */
  key: string;
}

/**
 * Why one timer per target instead of a sweep over all: a target that was just registered or
 * moved is checked at once, every other one on its own jittered period, so checks of a fleet
 * registered together spread out instead of firing in one burst every interval.
 */
export class HealthScheduler {
  readonly #o: HealthSchedulerOptions;
  readonly #random: () => number;
  readonly #queue: PQueue;
  readonly #entries = new Map<string, Entry>();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(options: HealthSchedulerOptions) {
    this.#o = options;
    this.#random = options.random ?? Math.random;
    this.#queue = new PQueue({ concurrency: options.concurrency });
  }

  /** Targets being watched. */
  get size(): number {
    return this.#entries.size;
  }

  /** Checks already queued or running. */
  get pending(): number {
    return this.#queue.size + this.#queue.pending;
  }

  start(): void {
    this.#unsubscribe = this.#o.core.subscribe((e) => this.#onEvent(e));
    // At start, spread the existing targets over one period instead of probing them all at once.
    for (const prefix of [SERVICES_PREFIX, REGISTRY_PREFIX]) {
      for (const view of this.#o.core.read({ prefixes: [prefix] })) {
        if (view.found) this.#track(view.name, this.#random() * this.#o.intervalMs);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    for (const e of this.#entries.values()) if (e.timer !== undefined) this.#o.clock.clearTimeout(e.timer);
    this.#entries.clear();
    this.#queue.clear();
    await this.#queue.onIdle();
  }

  #onEvent(e: SwitchboardEvent): void {
    if (!isCheckable(e.name)) return;
    if (e.type === "delete" || e.type === "expire") {
      const entry = this.#entries.get(e.name);
      if (entry?.timer !== undefined) this.#o.clock.clearTimeout(entry.timer);
      this.#entries.delete(e.name);
    } else if (e.type === "set") {
      // A publish of metadata.health leaves the key as it is: it does not trigger another check.
      if (this.#entries.get(e.name)?.key !== this.#keyOf(e.name)) this.#track(e.name, 0);
    }
  }

  #keyOf(name: string): string {
    const r = this.#o.core.get(name);
    const t = r ? targetOf(r) : null;
    return t ? JSON.stringify([t.check, t.endpoint]) : "";
  }

  #track(name: string, delayMs: number): void {
    const old = this.#entries.get(name);
    if (old?.timer !== undefined) this.#o.clock.clearTimeout(old.timer);
    const entry: Entry = { timer: undefined, key: this.#keyOf(name) };
    this.#entries.set(name, entry);
    this.#arm(name, entry, delayMs);
  }

  #arm(name: string, entry: Entry, delayMs: number): void {
    entry.timer = this.#o.clock.setTimeout(() => {
      entry.timer = undefined;
      void this.#queue
        .add(() => this.#o.checker.check(name))
        .catch(() => undefined) // a failed check is a verdict already; nothing else to do
        .finally(() => {
          // Re-arm only if this entry is still the current one (not removed, not replaced).
          if (!this.#stopped && this.#entries.get(name) === entry && entry.timer === undefined) {
            this.#arm(name, entry, this.#period());
          }
        });
    }, delayMs);
  }

  /** The period ±10 %. */
  #period(): number {
    return this.#o.intervalMs * (0.9 + 0.2 * this.#random());
  }
}
