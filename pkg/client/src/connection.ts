// What the client knows about its server: connection state, the last error, the next attempt and the server's epoch.

import type { Runtime } from "./runtime.js";

/**
 * `connecting`: no answer yet. `connected`: the last exchange got an answer. `reconnecting`: the
 * server could not be reached (or answered 5xx) since it last answered; loops are backing off.
 * `closed`: close() was called.
 */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "closed";

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The server's history id (X-Switchboard-Epoch) as last seen; undefined before the first answer. */
  readonly epoch: string | undefined;
  /** Why the last exchange failed; cleared when the server answers again. */
  readonly lastError: unknown;
  /** When (epoch ms) the earliest scheduled retry goes out, while reconnecting. */
  readonly nextAttemptAt: number | undefined;
  /** When (epoch ms) the state last changed. */
  readonly since: number;
}

export type StateListener = (status: ConnectionStatus, previous: ConnectionStatus) => void;
export type EpochListener = (epoch: string, previous: string) => void;

/** One per client: every loop and call reports here, the app listens here. */
export class Connection {
  private current: ConnectionStatus;
  private readonly stateListeners = new Set<StateListener>();
  private readonly epochListeners = new Set<EpochListener>();
  /** Sleepers woken when the server answers again, so that every loop retries at once. */
  private readonly upWaiters = new Set<() => void>();
  /** Exchanges are numbered as they start: a failure of one older than the last answer is stale. */
  private started = 0;
  private lastAnswered = 0;

  constructor(private readonly rt: Runtime) {
    this.current = {
      state: "connecting",
      epoch: undefined,
      lastError: undefined,
      nextAttemptAt: undefined,
      since: rt.now(),
    };
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  /** Numbers an exchange as it starts; pass the number to answered() or failed(). */
  begin(): number {
    this.started += 1;
    return this.started;
  }

  /** The server answered (any status but 5xx); `epoch` is its X-Switchboard-Epoch header, if any. */
  answered(epoch: string | null, exchange: number): void {
    if (this.current.state === "closed") return;
    if (exchange > this.lastAnswered) this.lastAnswered = exchange;
    if (epoch !== null && epoch !== "" && epoch !== this.current.epoch) {
      const previous = this.current.epoch;
      this.current = { ...this.current, epoch };
      if (previous !== undefined) for (const l of [...this.epochListeners]) guard(() => l(epoch, previous));
    }
    if (this.current.state !== "connected") {
      this.update({ state: "connected", lastError: undefined, nextAttemptAt: undefined });
      const waiters = [...this.upWaiters];
      this.upWaiters.clear();
      for (const w of waiters) w();
    }
  }

  /**
   * An exchange got no usable answer (no connection, 5xx). One that started before the server's
   * latest answer says nothing new about the server and leaves the state alone.
   */
  failed(error: unknown, exchange: number): void {
    const s = this.current;
    if (s.state === "closed" || exchange < this.lastAnswered) return;
    this.update({ state: s.state === "connecting" ? "connecting" : "reconnecting", lastError: error });
  }

  /** A loop will try again at `retryAt` (epoch ms): kept as the earliest attempt to come while not connected. */
  retrying(retryAt: number): void {
    const s = this.current;
    if (s.state === "closed" || s.state === "connected") return;
    // The earliest retry still to come: one already past was made (and failed, or this is it).
    const pending = s.nextAttemptAt !== undefined && s.nextAttemptAt > this.rt.now() ? s.nextAttemptAt : undefined;
    this.update({ nextAttemptAt: Math.min(retryAt, pending ?? Number.POSITIVE_INFINITY) });
  }

  close(): void {
    if (this.current.state === "closed") return;
    this.update({ state: "closed", nextAttemptAt: undefined });
    const waiters = [...this.upWaiters];
    this.upWaiters.clear();
    for (const w of waiters) w();
  }

  onStateChange(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onEpochChange(listener: EpochListener): () => void {
    this.epochListeners.add(listener);
    return () => this.epochListeners.delete(listener);
  }

  /**
   * Resolves after `ms`, when `signal` aborts, or as soon as the server answers again (another loop
   * got through): after an outage every loop retries at once instead of finishing its backoff.
   */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.rt.timers.clearTimeout(handle);
        signal.removeEventListener("abort", done);
        this.upWaiters.delete(done);
        resolve();
      };
      const handle = this.rt.timers.setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.upWaiters.add(done);
    });
  }

  private update(change: Partial<ConnectionStatus>): void {
    const previous = this.current;
    const next = { ...previous, ...change };
    if (next.state !== previous.state) next.since = this.rt.now();
    this.current = next;
    if (
      next.state === previous.state &&
      next.lastError === previous.lastError &&
      next.nextAttemptAt === previous.nextAttemptAt
    ) {
      return;
    }
    for (const l of [...this.stateListeners]) guard(() => l(next, previous));
  }
}

/** A listener's exception must not break the loop that reported. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
