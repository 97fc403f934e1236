// A time bound for one storage step: retries transient driver errors until it passes, then gives up with STORAGE_UNAVAILABLE.

import { setTimeout as sleep } from "node:timers/promises";
import { SwitchboardError } from "../../core/errors.js";
import { isPermanent } from "./health.js";

export class Deadline {
  readonly at: number;
  /** Set when the bound passed: retry loops still running for a step that already failed stop here. */
  expired = false;

  constructor(
    readonly ms: number,
    readonly what: string,
  ) {
    this.at = Date.now() + ms;
  }

  get remaining(): number {
    return this.at - Date.now();
  }

  /** Settles like `work`, or rejects with STORAGE_UNAVAILABLE when the bound passes first. */
  race<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          this.expired = true;
          reject(
            new SwitchboardError("STORAGE_UNAVAILABLE", `mongo: ${this.what} did not complete within ${this.ms} ms`, {
              details: { storage: "mongo", operation: this.what, timeoutMs: this.ms },
            }),
          );
        },
        Math.max(0, this.remaining),
      );
    });
    return Promise.race([work, bound]).finally(() => clearTimeout(timer));
  }

  /**
   * Runs `op` until it succeeds, fails for good (see isPermanent) or the bound passes. The driver
   * reconnects on its own: a retry waits in server selection until a server is back. Only
   * idempotent operations are passed here.
   */
  async retry<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        const pause = Math.min(20 * 2 ** attempt, 250);
        if (this.expired || isPermanent(err) || this.remaining <= pause) throw err;
        await sleep(pause);
      }
    }
  }
}
