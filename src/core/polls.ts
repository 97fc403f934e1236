// The two long-polls every protocol offers: consumers wait for register changes, providers for change requests.

import { SwitchboardError } from "./errors.js";
import { assertName, assertPrefix } from "./names.js";
import type { RegisterView, Switchboard } from "./switchboard.js";
import type { ChangeRequest, Selector } from "./types.js";
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

/**
 * Without an index: the current state at once. With one: at once if anything watched changed
 * after it (or a resync is needed), else hold up to the wait and answer the state then.
 */
export async function consumerPoll(
  sb: Switchboard,
  rawSelector: Selector,
  index: number | undefined,
  options: PollOptions,
): Promise<ConsumerPollResult> {
  const selector = checkSelector(sb, rawSelector);
  const waitMs = jitteredWait(sb, options.waitMs, options.random);
  const withRequests = options.pending === true;
  // Registers and their queues are read in one synchronous step, so they belong to the same index.
  const answer = (resync: boolean, removed: Iterable<string> = []) => {
    const registers = sb.read(selector, removed);
    const base = { epoch: sb.epoch, index: sb.revision, resync, registers };
    if (!withRequests) return base;
    const pending = new Map<string, readonly ChangeRequest[]>();
    for (const v of registers) if (v.found) pending.set(v.name, sb.queued(v.name));
    return { ...base, pending };
  };
  // As in Consul, index 0 (or none) is a plain read — except on a server that has had no change
  // yet (revision 0), where answering at once would make a looping client spin.
  // An index from another history is like one from the future: the full state, flagged resync.
  if (index !== undefined && sb.isForeignEpoch(options.epoch)) return answer(true);
  if (index === undefined || (index === 0 && sb.revision > 0)) return answer(false);
  const { where } = options;
  // A client that read from a node further ahead (a cluster) gets this node's state once it caught up, not a resync.
  if (index > sb.revision) await sb.catchUp(index);
  const before = sb.changesSince(selector, index, withRequests, where);
  if (before.changed) return answer(before.resync, before.removed);
  const outcome = await sb.wait("consumer", selector, {
    timeoutMs: waitMs,
    signal: options.signal,
    requests: withRequests,
    where,
  });
  const after = sb.changesSince(selector, index, withRequests, where);
  return {
    ...answer(after.resync, after.removed),
    ...(outcome.reason === "change" ? { changedAt: outcome.changedAt } : {}),
  };
}

/**
 * Acknowledges the selection's requests with id <= after, then answers the pending ones at once,
 * or holds up to the wait for a new one. An `after` from another epoch, or above every id this
 * server handed out (the caller saw another history), acknowledges nothing: dropping requests
 * the provider never saw would lose them.
 */
export async function providerPoll(
  sb: Switchboard,
  rawSelector: Selector,
  after: number | undefined,
  options: PollOptions,
): Promise<ProviderPollResult> {
  const selector = checkSelector(sb, rawSelector);
  const waitMs = jitteredWait(sb, options.waitMs, options.random);
  if (after !== undefined && !sb.isForeignEpoch(options.epoch) && after > sb.lastRequestId) await sb.catchUp(0, after);
  const epoch = sb.epoch;
  const resync = after !== undefined && (sb.isForeignEpoch(options.epoch) || after > sb.lastRequestId);
  const cursor = resync ? 0 : (after ?? 0);
  if (cursor > 0) await sb.acknowledge(selector, cursor);
  const pending = sb.pendingRequests(selector, cursor);
  const missing = () => (selector.names ?? []).filter((n) => sb.get(n) === undefined);
  // A resync answers at once: the provider must learn of the new history before it waits in it.
  if (pending.length > 0 || resync) {
    sb.markDelivered(pending);
    return { epoch, index: sb.revision, resync, requests: pending, missing: missing() };
  }
  const outcome = await sb.wait("provider", selector, { timeoutMs: waitMs, signal: options.signal });
  const requests = sb.pendingRequests(selector, cursor);
  sb.markDelivered(requests);
  return {
    epoch,
    index: sb.revision,
    resync,
    requests,
    missing: missing(),
    ...(outcome.reason === "change" ? { changedAt: outcome.changedAt } : {}),
  };
}
