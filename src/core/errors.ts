// The one error type of Switchboard. Its codes are declared once in @switchboard/wire (kept in sync with docs/errors.md
// by a test), so the server, the CLI and the client read the same list.

import { ERROR_CODES, type ErrorCode, type ErrorKind } from "@switchboard/wire";

export { ERROR_CODES, type ErrorCode, type ErrorKind };

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
