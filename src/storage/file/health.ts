// Storage health of the file store: failures reported once per state change, and a background probe with backoff
// that brings the store back by itself once the disk takes writes again (no client write needed).

import type { Clock, TimerHandle } from "../../core/ports.js";
import { errnoCode } from "./fs.js";

/** What the store tells the outside about its health; pino loggers fit. */
export interface StoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface HealthOptions {
  readonly clock: Pick<Clock, "setTimeout" | "clearTimeout">;
  readonly log: StoreLogger | undefined;
  /** Counted for every failure (the metric), whether or not the state changed. */
  readonly onError: ((op: string, code: string) => void) | undefined;
  /** Tries the storage and calls recovered() when it works again. */
  readonly probe: () => Promise<void>;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export interface StoreHealth {
  readonly healthy: boolean;
  /** A failure of `op`: unhealthy until a probe succeeds (or the store recovers on its own path). */
  failed(op: string, err: unknown): void;
  /** The store works again (a commit recovered the writer, a probe passed). */
  recovered(how: string): void;
  close(): void;
}

export function errorCode(err: unknown): string {
  return errnoCode(err) ?? (err instanceof Error && err.name !== "Error" ? err.name : "UNKNOWN");
}

export function createStoreHealth(o: HealthOptions): StoreHealth {
  let healthy = true;
  let closed = false;
  let timer: TimerHandle | null = null;
  let delay = o.minDelayMs;
  let failure: { op: string; code: string } | null = null;

  function schedule(): void {
    if (closed || timer !== null) return;
    // The callback returns the attempt so that a test clock can await it; real timers ignore it.
    timer = o.clock.setTimeout(() => {
      timer = null;
      return attempt();
    }, delay);
  }

  async function attempt(): Promise<void> {
    if (closed || healthy) return;
    try {
      await o.probe();
    } catch (err) {
      if (closed || healthy) return;
      o.onError?.("probe", errorCode(err));
      const code = errorCode(err);
      if (failure !== null && code !== failure.code) {
        // A different reason is a state change too (ENOSPC → EIO): worth one more line.
        failure = { op: "probe", code };
        o.log?.warn({ storage: "file", op: "probe", code, message: messageOf(err) }, "file store still failing");
      }
      delay = Math.min(delay * 2, o.maxDelayMs);
      schedule();
    }
  }

  const api: StoreHealth = {
    get healthy() {
      return healthy && !closed;
    },
    failed(op, err) {
      const code = errorCode(err);
      o.onError?.(op, code);
      if (!healthy) return;
      healthy = false;
      failure = { op, code };
      delay = o.minDelayMs;
      o.log?.warn(
        { storage: "file", op, code, message: messageOf(err) },
        "file store failed: not ready until a probe write succeeds",
      );
      schedule();
    },
    recovered(how) {
      if (healthy) return;
      healthy = true;
      if (timer !== null) {
        o.clock.clearTimeout(timer);
        timer = null;
      }
      o.log?.info({ storage: "file", how, after: failure }, "file store takes writes again");
      failure = null;
    },
    close() {
      closed = true;
      if (timer !== null) o.clock.clearTimeout(timer);
      timer = null;
    },
  };
  return api;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
