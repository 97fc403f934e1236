// The core's public surface: what protocols, services and storage adapters may use.

export { systemClock } from "./clock.js";
export { ERROR_CODES, type ErrorCode, type ErrorKind, isSwitchboardError, SwitchboardError } from "./errors.js";
export { jsonEqual, jsonSize, utf8Length } from "./json.js";
export { DEFAULT_LIMITS, type Limits } from "./limits.js";
export { assertName, assertPrefix, isValidName, MAX_NAME_LENGTH } from "./names.js";
export {
  type ConsumerPollResult,
  checkSelector,
  consumerPoll,
  jitteredWait,
  type PollOptions,
  type ProviderPollResult,
  providerPoll,
} from "./polls.js";
export type { Clock, HealthCache, LoadResult, ObjectStore, Persistence, TimerHandle } from "./ports.js";
export { KeyedMutex, type Release, RWLock } from "./rwlock.js";
export {
  type RegisterView,
  type SetResult,
  Switchboard,
  type SwitchboardOptions,
  type WaitKind,
} from "./switchboard.js";
export type * from "./types.js";
export type { WaitOutcome } from "./waiters.js";
