// Reachability of the Mongo deployment (from driver topology events and write failures) and which errors are worth a retry.

import { BSON, MongoAPIError, MongoBulkWriteError, type MongoClient, MongoServerError } from "mongodb";

export interface MongoLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/**
 * Server error codes of a definite refusal: retrying the same write cannot succeed. Everything
 * else (network errors, server selection timeouts, "not primary", shutdowns, write concern
 * timeouts …) is retried until the write bound passes, because every planned write is idempotent.
 */
const PERMANENT_CODES = new Set([
  2, // BadValue
  9, // FailedToParse
  10, // CannotReuseObject
  14, // TypeMismatch
  17, // ProtocolError
  52, // DollarPrefixedFieldName
  55, // InvalidDBRef
  56, // EmptyFieldName
  57, // DottedFieldName
  66, // ImmutableField
  121, // DocumentValidationFailure
  11000, // DuplicateKey
  10334, // BSONObjectTooLarge
  17419, // document too large
]);

export function isPermanent(err: unknown): boolean {
  if (BSON.BSONError.isBSONError(err) || err instanceof MongoAPIError) return true;
  if (err instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    return writeErrors.some((w) => PERMANENT_CODES.has(w.code));
  }
  return err instanceof MongoServerError && typeof err.code === "number" && PERMANENT_CODES.has(err.code);
}

/**
 * Healthy = the driver sees a writable server and no write has failed since it last did. A write
 * failure is cleared by a later successful write or by the topology turning writable again (a
 * reconnect), so an idle store reports recovery without needing a write first.
 */
export class MongoHealth {
  #writable = false;
  #failedSince: number | null = null;
  #closed = false;

  constructor(
    client: MongoClient,
    private readonly logger: MongoLogger | undefined,
  ) {
    client.on("topologyDescriptionChanged", (event) => {
      let writable = false;
      for (const server of event.newDescription.servers.values()) if (server.isWritable) writable = true;
      if (writable === this.#writable) return;
      const wasHealthy = this.healthy;
      this.#writable = writable;
      if (writable) this.#failedSince = null;
      this.#report(wasHealthy, { servers: [...event.newDescription.servers.keys()] });
    });
  }

  get healthy(): boolean {
    return this.#writable && this.#failedSince === null && !this.#closed;
  }

  writeSucceeded(): void {
    const wasHealthy = this.healthy;
    this.#failedSince = null;
    this.#report(wasHealthy, {});
  }

  writeFailed(err: unknown): void {
    const wasHealthy = this.healthy;
    this.#failedSince ??= Date.now();
    this.#report(wasHealthy, { err: err instanceof Error ? err.message : String(err) });
  }

  close(): void {
    this.#closed = true;
  }

  #report(wasHealthy: boolean, details: object): void {
    if (this.#closed || wasHealthy === this.healthy) return;
    if (this.healthy) this.logger?.info({ storage: "mongo", ...details }, "mongo is reachable and takes writes");
    else this.logger?.warn({ storage: "mongo", ...details }, "mongo is unreachable or refuses writes");
  }
}
