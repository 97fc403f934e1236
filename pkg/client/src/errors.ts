// The client's error types: ClientError for an error answer of the server, ConnectionError when no answer came.

import { type ErrorCode, isValidName, isValidPrefix } from "@switchboard/wire";

export type { ErrorCode };

/**
 * A ClientError's code: the server's (declared in @switchboard/wire), the client's own (a value its schema refused, a
 * second provision of one name, an answer that lacks a register) or HTTP_<status> for an error answer without one.
 * Open-ended, as a newer server may answer codes this client does not know yet.
 */
export type ClientErrorCode =
  | ErrorCode
  | "INVALID_VALUE"
  | "ALREADY_PROVIDED"
  | "BAD_ANSWER"
  | `HTTP_${number}`
  | (string & {});

/** The server answered with an error status; `code`, `message` and `details` come from its error body. */
export class ClientError extends Error {
  override readonly name: string = "ClientError";
  /** HTTP status of the answer. */
  readonly status: number;
  /** The server's error code, e.g. "QUEUE_FULL", or "HTTP_<status>" when the body had none. */
  readonly code: ClientErrorCode;
  readonly details: unknown;
  /** From a Retry-After header, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    status: number,
    code: ClientErrorCode,
    message: string,
    options: { details?: unknown; retryAfterMs?: number | undefined } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** One register whose condition failed: its current version and modRevision (0 when absent). */
export interface VersionConflict {
  readonly name: string;
  readonly version: number;
  readonly modRevision: number;
  readonly ifVersion?: number;
  readonly ifModRevision?: number;
}

/** 409 VERSION_CONFLICT: an ifVersion / ifModRevision condition did not hold and nothing was applied. */
export class VersionConflictError extends ClientError {
  override readonly name: string = "VersionConflictError";
  /** Each register whose condition failed, with its current version and modRevision. */
  readonly conflicts: readonly VersionConflict[];

  constructor(message: string, details: unknown) {
    super(409, "VERSION_CONFLICT", message, { details });
    const list = (details as { conflicts?: unknown } | null | undefined)?.conflicts;
    this.conflicts = Array.isArray(list) ? (list as VersionConflict[]) : [];
  }
}

/** The request did not get an answer (refused, reset, DNS, timeout of the client's own guard). */
export class ConnectionError extends Error {
  override readonly name = "ConnectionError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Whether a background loop should back off and try again rather than give up. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (err instanceof ClientError) return err.status >= 500 || err.status === 408 || err.status === 429;
  return false;
}

/** An abort error for iterators and calls ended by close() or a signal. */
export function abortError(reason?: unknown): unknown {
  if (reason !== undefined) return reason;
  return new DOMException("The operation was aborted.", "AbortError");
}

/** Local validation of names and prefixes, with the server's own rules and codes, so one bad name cannot break a shared poll. */
export function checkName(name: string): void {
  if (!isValidName(name)) {
    throw new ClientError(400, "INVALID_NAME", `invalid register name ${JSON.stringify(name)}`, {
      details: { name },
    });
  }
}

export function checkPrefix(prefix: string): void {
  if (!isValidPrefix(prefix)) {
    throw new ClientError(400, "INVALID_PREFIX", `invalid prefix ${JSON.stringify(prefix)}`, {
      details: { prefix },
    });
  }
}
