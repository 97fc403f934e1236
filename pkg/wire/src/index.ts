// @switchboard/wire: the contract the server, the CLI and the client share, with no dependencies.

export { DurationError, formatDuration, parseDuration } from "./duration.js";
export { ERROR_CODES, type ErrorBody, type ErrorCode, type ErrorKind, isErrorCode } from "./errors.js";
export { DEFAULT_LIMITS, INDEX_HEADER } from "./limits.js";
export { isValidName, isValidPrefix, MAX_NAME_LENGTH, NAME_ALPHABET } from "./names.js";
export type * from "./types.js";
