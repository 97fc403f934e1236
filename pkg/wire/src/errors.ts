// The error codes of the API, declared once: the server raises them, the client and the CLI read them back.

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
  INVALID_FILTER: {
    kind: "invalid",
    description:
      "A registry filter uses an operator outside the allow-list ($where, $function, $accumulator, $expr …), is malformed, or nests too deep.",
  },
  QUERY_TOO_COMPLEX: {
    kind: "invalid",
    description:
      "A GraphQL document nests deeper, selects more fields or carries more top-level fields than the configured limits.",
  },
  NO_SELECTOR: { kind: "invalid", description: "A read or poll names no register and no prefix." },
  DUPLICATE_NAME: { kind: "invalid", description: "A batch names the same register twice." },
  MALFORMED_REQUEST: {
    kind: "invalid",
    description: "The request is not valid HTTP/1.1 (rejected by the HTTP parser before any route ran).",
  },
  REQUEST_TIMEOUT: {
    kind: "invalid",
    description:
      "The request line and headers, or the body, did not arrive in time (--request-body-timeout, default 10 s); answered 408.",
  },
  HEADERS_TOO_LARGE: {
    kind: "too_large",
    description: "The request line and headers are larger than the server accepts; answered 431.",
  },
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
  RESPONSE_TOO_LARGE: {
    kind: "too_large",
    description:
      "The answer would be larger than --max-response-bytes (default 32 MiB); page through GET /registers?prefix=&cursor= instead.",
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
  REGISTRY_EXISTS: { kind: "conflict", description: "A registry record with that registry_id already exists." },
  UPLOAD_NOT_FOUND: {
    kind: "not_found",
    description: "No upload task has that id (or its status expired).",
  },
  ZIP_INVALID: { kind: "invalid", description: "An uploaded file is not a readable zip archive." },
  ZIP_UNSAFE_ENTRY: {
    kind: "invalid",
    description:
      "A zip entry escapes its folder (.., an absolute path, a drive letter), is a symlink, or is encrypted.",
  },
  ZIP_TOO_LARGE: {
    kind: "too_large",
    description: "A zip archive has more entries or more uncompressed bytes than the configured limits.",
  },
  ZIP_BOMB: {
    kind: "invalid",
    description: "A zip entry expands more than 100 times its compressed size (over 1 MiB): a decompression bomb.",
  },
  UPLOAD_INTERRUPTED: {
    kind: "unavailable",
    description: "An upload was still waiting or being processed when the server stopped; upload it again.",
  },
  UPLOAD_QUEUE_FULL: {
    kind: "exhausted",
    description: "Too many uploads are waiting to be processed; retry later.",
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
  TOO_MANY_POLLS: {
    kind: "exhausted",
    description: "This client holds the configured maximum of long-polls and event streams (--max-polls-per-client).",
  },
  TOO_MANY_CONNECTIONS: {
    kind: "unavailable",
    description:
      "The server (--max-connections) or the TCP proxy (--proxy-max-connections) holds its maximum of connections; retry later. /healthz, /readyz and /metrics still answer.",
  },
  SHUTTING_DOWN: { kind: "unavailable", description: "The server is stopping and takes no new writes or polls." },
  NOT_READY: { kind: "unavailable", description: "The server has not finished loading its state." },
  NOT_WRITER: {
    kind: "unavailable",
    description:
      "In a cluster, this node does not hold the write lease: `details.writer` names the node that does (null while no node does); retry there or after Retry-After.",
  },
  NO_WRITER: {
    kind: "unavailable",
    description:
      "In a cluster, no node holds the write lease right now (a failover is under way, or the writer cannot be reached), so a write cannot be forwarded; retry after Retry-After, here or at another node.",
  },
  LISTEN_FAILED: {
    kind: "unavailable",
    description:
      "A protocol's socket could not be bound (address in use, permission denied); the message names the flag to change and the server does not start.",
  },
  CONSOLE_NOT_BUILT: {
    kind: "unavailable",
    description: "The web console is switched on but its built files are missing (run `npm run build`).",
  },
  STORAGE_UNAVAILABLE: {
    kind: "unavailable",
    description:
      "The storage did not accept a write within its bound; nothing was applied (except where the message says a forwarded write may or may not have been applied).",
  },
  STORAGE_CORRUPT: {
    kind: "internal",
    description: "Stored state could not be read back (not a torn last log line, which is dropped).",
  },
  INTERNAL: { kind: "internal", description: "An unexpected failure inside the server; it is logged with its stack." },
} as const satisfies Record<string, { kind: ErrorKind; description: string }>;

/** Every code an error body may carry (see docs/errors.md for its HTTP status). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error body of every HTTP answer with an error status. */
export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    /** Code-specific facts, such as VERSION_CONFLICT's `conflicts` or a validation error's list of problems. */
    readonly details?: unknown;
  };
}

/** Whether a string is one of the codes (a proxy or an older server may answer others). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
