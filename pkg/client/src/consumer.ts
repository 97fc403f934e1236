// Entry point `@switchboard/client/consumer`: the read side alone (subscriptions, reads, change requests), re-exports only.

export type { ConnectionState, ConnectionStatus, EpochListener, StateListener } from "./connection.js";
export { type CallSignal, type ConsumeOptions, SwitchboardConsumer } from "./consumer-client.js";
export { ClientError, ConnectionError } from "./errors.js";
export { durationMs } from "./runtime.js";
export type { StandardSchemaV1 } from "./schema.js";
export type { Service } from "./services.js";
export type { NameSubscription, Observer, PrefixSubscription, Unsubscribable } from "./subscription.js";
export type {
  ClientOptions,
  ConsumeItem,
  Duration,
  FoundItem,
  Json,
  JsonObject,
  ListPage,
  MissingItem,
  RequestInput,
  RequestReceipt,
  RetryOptions,
  Timers,
} from "./types.js";
