// Opens a Switchboard over a FakePersistence and a FakeClock, and steps time the way the sweep timer needs.

import type { Limits } from "../../../src/core/limits.js";
import { Switchboard } from "../../../src/core/switchboard.js";
import type { SwitchboardEvent } from "../../../src/core/types.js";
import { FakeClock } from "../../helpers/fake-clock.js";
import { FakePersistence } from "../../helpers/fake-persistence.js";
import { flush } from "../../helpers/flush.js";

export interface BoardOptions {
  readonly store?: FakePersistence;
  readonly clock?: FakeClock;
  readonly limits?: Partial<Limits>;
  readonly eventRingSize?: number;
  readonly sweepIntervalMs?: number;
  readonly ttlGraceMs?: number;
  readonly requestTtlMs?: number;
  readonly requestHistoryMs?: number;
}

export interface Board {
  readonly sb: Switchboard;
  readonly clock: FakeClock;
  readonly store: FakePersistence;
  /** Every event the board applied since it opened, in order. */
  readonly events: SwitchboardEvent[];
  /** What onError was told. */
  readonly errors: { err: unknown; context: string }[];
}

export async function openBoard(options: BoardOptions = {}): Promise<Board> {
  const clock = options.clock ?? new FakeClock();
  const store = options.store ?? new FakePersistence();
  const errors: { err: unknown; context: string }[] = [];
  const sb = await Switchboard.open({
    persistence: store,
    clock,
    onError: (err, context) => errors.push({ err, context }),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.eventRingSize ? { eventRingSize: options.eventRingSize } : {}),
    ...(options.sweepIntervalMs ? { sweepIntervalMs: options.sweepIntervalMs } : {}),
    ...(options.ttlGraceMs === undefined ? {} : { ttlGraceMs: options.ttlGraceMs }),
    ...(options.requestTtlMs === undefined ? {} : { requestTtlMs: options.requestTtlMs }),
    ...(options.requestHistoryMs === undefined ? {} : { requestHistoryMs: options.requestHistoryMs }),
  });
  const events: SwitchboardEvent[] = [];
  sb.subscribe((e) => events.push(e));
  return { sb, clock, store, events, errors };
}

/**
 * Moves the clock by `ms` in steps of at most `step`, letting promises settle after each step.
 * The sweep re-arms its timer only after its (async) commit, so one big advance() would fire it once.
 */
export async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  let left = ms;
  while (left > 0) {
    const d = Math.min(step, left);
    clock.advance(d);
    left -= d;
    await flush();
  }
}
