// Entry point of @switchboard/client: re-exports only.

export { type CallSignal, type ProvideOptions, SwitchboardClient } from "./client.js";
export { ClientError, ConnectionError } from "./errors.js";
export type { Provision } from "./provision.js";
export { durationMs } from "./runtime.js";
export type { DiscoverFilter, Service, ServiceHealth, ServiceOptions, ServiceRegistration } from "./services.js";
export type { NameSubscription, PrefixSubscription } from "./subscription.js";
export type {
  ChangeRequest,
  ClientOptions,
  ConsumeItem,
  Duration,
  FoundItem,
  Json,
  JsonObject,
  ListPage,
  MissingItem,
  RegisterWrite,
  RequestReceipt,
  RetryOptions,
  ServerStatus,
  Timers,
  WriteAnswer,
  WriteResult,
} from "./types.js";
