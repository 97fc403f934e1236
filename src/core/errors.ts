// The one error type of Switchboard and the fixed list of its codes (kept in sync with docs/errors.md by a test).

/** What kind of failure a code is; each protocol maps a kind to its own status (HTTP, JSON-RPC …). */
export type ErrorKind =
  | "invalid"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_large"
  | "exhausted"
  | "unavailable"
  | "internal";

export const ERROR_CODES = {
  INVALID_NAME: {
    kind: "invalid",
    description:
      "A register name is empty, longer than 256 characters or uses characters outside A-Z a-z 0-9 . _ - : /.",
  },
  INVALID_PREFIX: {
    kind: "invalid",
    description: "A prefix is longer than 256 characters or uses characters outside the name alphabet.",
  },
  INVALID_BODY: {
    kind: "invalid",
    description: "The request body is not valid JSON or does not have the documented shape.",
  },
  INVALID_QUERY: {
    kind: "invalid",
    description: "A query parameter is missing, repeated where it must not be, or malformed.",
  },
  INVALID_DURATION: {
    kind: "invalid",
    description: 'A duration is not a non-negative number of seconds or a string such as "500ms", "30s", "5m", "1h".',
  },
  INVALID_INDEX: { kind: "invalid", description: "An index, cursor or request id is not a non-negative integer." },
  INVALID_CURSOR: { kind: "invalid", description: "A paging cursor was not produced by this server." },
  NO_SELECTOR: { kind: "invalid", description: "A read or poll names no register and no prefix." },
  DUPLICATE_NAME: { kind: "invalid", description: "A batch names the same register twice." },
  BODY_TOO_LARGE: {
    kind: "too_large",
    description: "The request body is larger than the configured limit (default 1 MiB).",
  },
  NESTING_TOO_DEEP: {
    kind: "invalid",
    description: "A value or metadata nests arrays and objects deeper than the configured limit (default 64 levels).",
  },
  VALUE_NOT_JSON: {
    kind: "invalid",
    description: "A value or metadata holds a number JSON cannot represent (such as 1e400, which parses to Infinity).",
  },
  VALUE_TOO_LARGE: {
    kind: "too_large",
    description: "A value serialises to more than the configured limit (default 64 KiB).",
  },
  METADATA_TOO_LARGE: {
    kind: "too_large",
    description: "Metadata serialises to more than the configured limit (default 16 KiB).",
  },
  BATCH_TOO_LARGE: {
    kind: "too_large",
    description: "A batch holds more registers or requests than the configured limit (default 1,000).",
  },
  TOO_MANY_NAMES: {
    kind: "too_large",
    description: "A read or poll names more registers or prefixes than the configured limit (default 1,000).",
  },
  WAIT_TOO_LONG: { kind: "invalid", description: "A wait is longer than the configured maximum (default 5 minutes)." },
  TTL_OUT_OF_RANGE: { kind: "invalid", description: "A TTL is negative or longer than the configured maximum." },
  INVALID_CONFIG: {
    kind: "invalid",
    description:
      "A setting (flag, environment variable or config file) is unknown or has a bad value; the server does not start.",
  },
  UNAUTHENTICATED: {
    kind: "unauthorized",
    description: "Auth is on and the request carries no token, or one that is unknown, revoked or malformed.",
  },
  FORBIDDEN: {
    kind: "forbidden",
    description: "The token's policies do not allow this action on this register, prefix or route.",
  },
  POLICY_NOT_FOUND: { kind: "not_found", description: "No ACL policy has that name." },
  TOKEN_NOT_FOUND: { kind: "not_found", description: "No token has that id (or it was revoked)." },
  RATE_LIMITED: {
    kind: "exhausted",
    description:
      "Too many writes, change requests or failed logins from this token or address; retry after Retry-After.",
  },
  REGISTER_NOT_FOUND: { kind: "not_found", description: "The register does not exist (or has expired)." },
  REQUEST_NOT_FOUND: {
    kind: "not_found",
    description: "No change request has that id, or its outcome is older than the request history (--request-history).",
  },
  ROUTE_NOT_FOUND: { kind: "not_found", description: "No such path or method." },
  SERVICE_NOT_FOUND: {
    kind: "not_found",
    description: "No service of that type and id is registered (or its lease ran out).",
  },
  REGISTRY_NOT_FOUND: {
    kind: "not_found",
    description: "No registry record (registries/<id>) or service of that id exists.",
  },
  UNHEALTHY: {
    kind: "unavailable",
    description: "The proxy target's health check is not passing, so no connection is made to it.",
  },
  CONNECT_FAILED: {
    kind: "unavailable",
    description: "The proxy could not connect to a healthy target within its connect timeout.",
  },
  TOO_MANY_CONNECTIONS: {
    kind: "exhausted",
    description: "The proxy holds its configured maximum of connections; retry later.",
  },
  FIRST_LINE_TIMEOUT: {
    kind: "invalid",
    description: "A proxy client sent no complete first line (the target id) within the first-line timeout.",
  },
  FIRST_LINE_TOO_LONG: {
    kind: "too_large",
    description: "A proxy client's first line (the target id) is longer than 256 bytes.",
  },
  BACKEND_NOT_FOUND: {
    kind: "not_found",
    description: 'No Plexus backend of that name is registered (JSON-RPC dialect: "Backend not found: NAME").',
  },
  BACKEND_EXISTS: {
    kind: "conflict",
    description: "A Plexus backend of that name is already registered; update or delete it instead.",
  },
  BACKENDS_FILE_INVALID: {
    kind: "invalid",
    description:
      "The TOML backends file cannot be read or does not have the [[backend]] shape; the backends it defined last are kept.",
  },
  VERSION_CONFLICT: {
    kind: "conflict",
    description:
      "An ifVersion or ifModRevision condition did not hold (0 means the register must not exist); nothing in the batch was applied. details.conflicts names each register with its current version and modRevision (0 when absent).",
  },
  QUEUE_FULL: {
    kind: "exhausted",
    description: "The register's change-request queue is full; retry after the provider has polled.",
  },
  TOO_MANY_WAITERS: {
    kind: "exhausted",
    description: "The server holds the configured maximum of long-polls; retry later.",
  },
  SHUTTING_DOWN: { kind: "unavailable", description: "The server is stopping and takes no new writes or polls." },
  NOT_READY: { kind: "unavailable", description: "The server has not finished loading its state." },
  LISTEN_FAILED: {
    kind: "unavailable",
    description:
      "A protocol's socket could not be bound (address in use, permission denied); the message names the flag to change and the server does not start.",
  },
  STORAGE_UNAVAILABLE: {
    kind: "unavailable",
    description: "The storage did not accept a write within its bound; nothing was applied.",
  },
  STORAGE_CORRUPT: {
    kind: "internal",
    description: "Stored state could not be read back (not a torn last log line, which is dropped).",
  },
  INTERNAL: { kind: "internal", description: "An unexpected failure inside the server; it is logged with its stack." },
} as const satisfies Record<string, { kind: ErrorKind; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SwitchboardError extends Error {
  override readonly name = "SwitchboardError";
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Seconds after which a retry may succeed (queue full, rate limits). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code].kind;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isSwitchboardError(err: unknown): err is SwitchboardError {
  return err instanceof SwitchboardError;
}
