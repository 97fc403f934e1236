// The core's public surface: what protocols, services and storage adapters may use. Internals
// (the waiter index, locks, the committer, selector helpers) stay inside src/core.

export { systemClock } from "./clock.js";
export type { Condition, Conflict } from "./conditions.js";
export { ERROR_CODES, type ErrorCode, type ErrorKind, isSwitchboardError, SwitchboardError } from "./errors.js";
export { jsonEqual, jsonSize, utf8Length } from "./json.js";
export { DEFAULT_LIMITS, type Limits } from "./limits.js";
export { assertName, assertPrefix, isValidName, MAX_NAME_LENGTH } from "./names.js";
export { type Outcome, type OutcomeStatus, outcomesOf } from "./outcomes.js";
export type { ConsumerPollResult, HeldPoll, PollOptions, ProviderPollResult } from "./polls.js";
export type { Clock, HealthCache, LoadResult, ObjectStore, Persistence, TimerHandle } from "./ports.js";
/** A per-key exclusive guard for services' read-modify-write sequences (the core's own write guard). */
export { KeyedMutex } from "./rwlock.js";
export {
  MAX_PAGE,
  type RegisterView,
  type SetResult,
  Switchboard,
  type SwitchboardOptions,
  type WaitKind,
} from "./switchboard.js";
export type * from "./types.js";
export { isEvent } from "./types.js";
export type { Watch, WatchItem, WatchOptions } from "./watch.js";
export { type Where, type WhereDoc, whereDoc } from "./where.js";
