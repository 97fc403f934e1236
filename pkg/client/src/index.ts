// Entry point of @switchboard/client: re-exports only.

export { type CallSignal, type ConsumeOptions, type ProvideOptions, SwitchboardClient } from "./client.js";
export type { ConnectionState, ConnectionStatus, EpochListener, StateListener } from "./connection.js";
export { SwitchboardConsumer } from "./consumer-client.js";
export {
  ClientError,
  type ClientErrorCode,
  ConnectionError,
  type ErrorCode,
  type VersionConflict,
  VersionConflictError,
} from "./errors.js";
export type { Provision } from "./provision.js";
export { durationMs } from "./runtime.js";
export type { StandardSchemaV1 } from "./schema.js";
export type { DiscoverFilter, Service, ServiceHealth, ServiceOptions, ServiceRegistration } from "./services.js";
export type { NameSubscription, Observer, PrefixSubscription, Unsubscribable } from "./subscription.js";
export type {
  ChangeRequest,
  ClientOptions,
  Conditions,
  ConsumeItem,
  Duration,
  FoundItem,
  Json,
  JsonObject,
  ListPage,
  MissingItem,
  RegisterWrite,
  RequestHandle,
  RequestInput,
  RequestOptions,
  RequestOutcome,
  RequestReceipt,
  RetryOptions,
  ServerStatus,
  Timers,
  WriteAnswer,
  WriteResult,
} from "./types.js";
