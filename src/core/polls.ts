// The two long-polls every protocol offers: consumers wait for register changes, providers for change requests.

import { SwitchboardError } from "./errors.js";
import { assertName, assertPrefix } from "./names.js";
import { type Changes, internals, type RegisterView, type Switchboard } from "./switchboard.js";
import type { ChangeRequest, Selector } from "./types.js";
import { settle, type Waiter, type WaitOutcome } from "./waiters.js";
import type { Where } from "./where.js";

export interface PollOptions {
  /** Longest hold, ms; 0 answers at once. */
  readonly waitMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Random in [0, 1) for the wait jitter (injectable for tests). */
  readonly random?: () => number;
  /**
   * The epoch the caller's index/after came from. Another epoch than the server's makes them
   * meaningless here: consumers get the full state flagged resync, providers acknowledge nothing.
   */
  readonly epoch?: string | undefined;
  /** Consumer polls: answer each register's pending requests, and wake when they change. */
  readonly pending?: boolean | undefined;
  /**
   * Consumer polls with an index: answer only the registers that changed after it (found: false
   * for removed ones) instead of the whole selection. Ignored without an index and on resync.
   */
  readonly changesOnly?: boolean | undefined;
  /** Consumer polls: a held poll wakes (and an index behind answers) only for changes that match. */
  readonly where?: Where | undefined;
}

export interface ConsumerPollResult {
  /** The history the index belongs to; pass it back with the index. */
  readonly epoch: string;
  /** Global revision to pass as `index` next time. */
  readonly index: number;
  readonly resync: boolean;
  readonly registers: RegisterView[];
  /** Epoch ms at which the change that woke this poll was applied (for wake-latency metrics). */
  readonly changedAt?: number;
  /** With `pending`: each found register's pending change requests, oldest first (taken with the registers). */
  readonly pending?: ReadonlyMap<string, readonly ChangeRequest[]>;
}

export interface ProviderPollResult {
  readonly epoch: string;
  readonly index: number;
  /** True when `after` was ignored (another epoch, or an id this server never handed out). */
  readonly resync: boolean;
  readonly requests: ChangeRequest[];
  /** Named registers of the selection that do not exist (a provider may want to re-create them). */
  readonly missing: string[];
  readonly changedAt?: number;
}

/** Validates a selection against the name rules and the limits. */
export function checkSelector(sb: Switchboard, selector: Selector): Selector {
  const names = [...new Set(selector.names ?? [])];
  const prefixes = [...new Set(selector.prefixes ?? [])];
  if (names.length + prefixes.length === 0) throw new SwitchboardError("NO_SELECTOR", "name no register and no prefix");
  if (names.length + prefixes.length > sb.limits.maxNames) {
    throw new SwitchboardError("TOO_MANY_NAMES", `at most ${sb.limits.maxNames} names and prefixes per request`);
  }
  for (const n of names) assertName(n);
  for (const p of prefixes) assertPrefix(p);
  return { names, prefixes };
}

/** Effective hold: the wait plus up to wait/16 of jitter so that fleets spread out, capped by the limit. */
export function jitteredWait(sb: Switchboard, waitMs: number, random: () => number = Math.random): number {
  if (waitMs > sb.limits.maxWaitMs) {
    throw new SwitchboardError("WAIT_TOO_LONG", `wait may be at most ${sb.limits.maxWaitMs} ms`);
  }
  if (waitMs <= 0) return 0;
  // Floor the jitter, not the sum: rounding up could exceed wait + wait/16.
  return waitMs + Math.floor(random() * (waitMs / 16));
}

/** A held poll, as its holder can end it. */
export interface HeldPoll {
  /** Ends the hold without an answer (the caller is gone). Harmless once answered. */
  drop(): void;
  /** Ends the hold and answers now, as when the wait ran out (a promise poll's signal). */
  answerNow(): void;
}

const ANSWERED: HeldPoll = { drop: () => undefined, answerNow: () => undefined };

function heldPoll(w: Waiter | WaitOutcome): HeldPoll {
  if (!("detach" in w)) return ANSWERED;
  return {
    drop: () => {
      w.detach();
    },
    answerNow: () => settle(w, { reason: "aborted" }),
  };
}

/**
 * Without an index: the current state at once. With one: at once if anything watched changed
 * after it (or a resync is needed), else hold up to the wait and answer the state then. With
 * `changesOnly` and an index, the answer holds only the registers that changed after it.
 * Validation errors are thrown; `done` is called once, possibly before this returns.
 */
export function holdConsumerPoll(
  sb: Switchboard,
  rawSelector: Selector,
  index: number | undefined,
  options: PollOptions,
  done: (result: ConsumerPollResult) => void,
): HeldPoll {
  const selector = checkSelector(sb, rawSelector);
  const waitMs = jitteredWait(sb, options.waitMs, options.random);
  const withRequests = options.pending === true;
  const changesOnly = options.changesOnly === true;
  // Registers and their queues are read in one synchronous step, so they belong to the same index.
  const answer = (resync: boolean, changes?: Changes, changedAt?: number): ConsumerPollResult => {
    const registers =
      changesOnly && changes !== undefined && !resync
        ? sb.read({ names: [...new Set([...changes.touched, ...changes.removed])].sort() })
        : sb.read(selector, changes?.removed ?? []);
    const base = {
      epoch: sb.epoch,
      index: sb.revision,
      resync,
      registers,
      ...(changedAt === undefined ? {} : { changedAt }),
    };
    if (!withRequests) return base;
    const pending = new Map<string, readonly ChangeRequest[]>();
    for (const v of registers) if (v.found) pending.set(v.name, sb.queued(v.name));
    return { ...base, pending };
  };
  // As in Consul, index 0 (or none) is a plain read — except on a server that has had no change
  // yet (revision 0), where answering at once would make a looping client spin.
  // An index from another history is like one from the future: the full state, flagged resync.
  if (index !== undefined && sb.isForeignEpoch(options.epoch)) {
    done(answer(true));
    return ANSWERED;
  }
  if (index === undefined || (index === 0 && sb.revision > 0)) {
    done(answer(false));
    return ANSWERED;
  }
  const { where } = options;
  const hold = (): HeldPoll => {
    const before = internals.changesSince(sb, selector, index, withRequests, where);
    if (before.changed) {
      done(answer(before.resync, before));
      return ANSWERED;
    }
    const onOutcome = (outcome: WaitOutcome) => {
      const after = internals.changesSince(sb, selector, index, withRequests, where);
      done(answer(after.resync, after, outcome.reason === "change" ? outcome.changedAt : undefined));
    };
    const held = internals.hold(
      sb,
      "consumer",
      selector,
      { timeoutMs: waitMs, requests: withRequests, where },
      onOutcome,
    );
    if (!("detach" in held)) onOutcome(held);
    return heldPoll(held);
  };
  if (index <= sb.revision) return hold();
  // A client that read from a node further ahead (a cluster) gets this node's state once it caught up, not a resync.
  return afterCatchUp(sb.catchUp(index), hold);
}

/** Runs `next` once `ready` settles, unless the holder dropped the poll meanwhile. */
function afterCatchUp(ready: Promise<void>, next: () => HeldPoll): HeldPoll {
  let current: HeldPoll | undefined;
  let dropped = false;
  let answerEarly = false;
  void ready.then(() => {
    if (dropped) return;
    current = next();
    if (answerEarly) current.answerNow();
  });
  return {
    drop: () => {
      dropped = true;
      current?.drop();
    },
    answerNow: () => {
      if (current) current.answerNow();
      else answerEarly = true;
    },
  };
}

/** The promise form of holdConsumerPoll; the signal answers the poll at once. */
export function consumerPoll(
  sb: Switchboard,
  rawSelector: Selector,
  index: number | undefined,
  options: PollOptions,
): Promise<ConsumerPollResult> {
  return asPromise(options.signal, (done) =>
    holdConsumerPoll(sb, rawSelector, index, options, (result) => done(undefined, result)),
  );
}

/**
 * Acknowledges the selection's requests with id <= after, then answers the pending ones at once,
 * or holds up to the wait for a new one. An `after` from another epoch, or above every id this
 * server handed out (the caller saw another history), acknowledges nothing: dropping requests
 * the provider never saw would lose them.
 */
export function holdProviderPoll(
  sb: Switchboard,
  rawSelector: Selector,
  after: number | undefined,
  options: PollOptions,
  done: (err: unknown, result?: ProviderPollResult) => void,
): HeldPoll {
  const selector = checkSelector(sb, rawSelector);
  const waitMs = jitteredWait(sb, options.waitMs, options.random);
  // A provider that acknowledged on a node further ahead (a cluster) waits for this node to catch up.
  if (after !== undefined && !sb.isForeignEpoch(options.epoch) && after > sb.lastRequestId) {
    return afterCatchUp(sb.catchUp(0, after), () => holdProviderPollNow(sb, selector, after, options, waitMs, done));
  }
  return holdProviderPollNow(sb, selector, after, options, waitMs, done);
}

function holdProviderPollNow(
  sb: Switchboard,
  selector: Selector,
  after: number | undefined,
  options: PollOptions,
  waitMs: number,
  done: (err: unknown, result?: ProviderPollResult) => void,
): HeldPoll {
  const epoch = sb.epoch;
  const resync = after !== undefined && (sb.isForeignEpoch(options.epoch) || after > sb.lastRequestId);
  const cursor = resync ? 0 : (after ?? 0);
  const missing = () => (selector.names ?? []).filter((n) => sb.get(n) === undefined);
  let current: HeldPoll | undefined;
  let dropped = false;
  const poll = () => {
    const pending = sb.pendingRequests(selector, cursor);
    // A resync answers at once: the provider must learn of the new history before it waits in it.
    if (pending.length > 0 || resync) {
      sb.markDelivered(pending);
      done(undefined, { epoch, index: sb.revision, resync, requests: pending, missing: missing() });
      return;
    }
    const onOutcome = (outcome: WaitOutcome) => {
      const requests = sb.pendingRequests(selector, cursor);
      sb.markDelivered(requests);
      done(undefined, {
        epoch,
        index: sb.revision,
        resync,
        requests,
        missing: missing(),
        ...(outcome.reason === "change" ? { changedAt: outcome.changedAt } : {}),
      });
    };
    let held: Waiter | WaitOutcome;
    try {
      held = internals.hold(sb, "provider", selector, { timeoutMs: waitMs }, onOutcome);
    } catch (err) {
      done(err);
      return;
    }
    if (!("detach" in held)) onOutcome(held);
    else current = heldPoll(held);
  };
  if (cursor > 0) {
    sb.acknowledge(selector, cursor).then(
      () => {
        if (!dropped) poll();
      },
      (err: unknown) => {
        if (!dropped) done(err);
      },
    );
  } else {
    poll();
  }
  return {
    drop: () => {
      dropped = true;
      current?.drop();
    },
    answerNow: () => {
      current?.answerNow();
    },
  };
}

/** The promise form of holdProviderPoll. */
export function providerPoll(
  sb: Switchboard,
  rawSelector: Selector,
  after: number | undefined,
  options: PollOptions,
): Promise<ProviderPollResult> {
  return asPromise(options.signal, (done) => holdProviderPoll(sb, rawSelector, after, options, done));
}

function asPromise<T>(
  signal: AbortSignal | undefined,
  start: (done: (err: unknown, result?: T) => void) => HeldPoll,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let off: (() => void) | undefined;
    let finished = false;
    const held = start((err, result) => {
      finished = true;
      off?.();
      if (err === undefined) resolve(result as T);
      else reject(err);
    });
    if (signal && !finished) {
      const onAbort = () => held.answerNow();
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      off = () => signal.removeEventListener("abort", onAbort);
    }
  });
}
