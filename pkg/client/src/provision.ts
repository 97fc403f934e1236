// A provide() handle: the register's value, its TTL refresh schedule and its stream of change requests.

import { abortError, ClientError } from "./errors.js";
import { durationMs } from "./runtime.js";
import type {
  AckInput,
  ChangeRequest,
  Conditions,
  Duration,
  Json,
  JsonObject,
  ReportStatus,
  RequestOutcome,
  WireChangeRequest,
  WriteResult,
} from "./types.js";

/** The server's limit on an outcome's message (PUT /provider/acks). */
const MAX_MESSAGE = 1024;

export interface Provision<T extends Json = Json> {
  readonly name: string;
  /** The value last given to provide() or set(). */
  readonly value: T;
  /** Resolves once the register has been written the first time; rejects on a 4xx or if closed before. */
  readonly ready: Promise<void>;
  /**
   * Writes a new value (and, if given, new metadata); resolves when the server has it. With
   * `ifVersion` / `ifModRevision` the write goes out alone and only applies if the register is
   * still at that version; otherwise it rejects with a VersionConflictError and the value stays.
   */
  set(value: T, metadata?: JsonObject, conditions?: Conditions): Promise<WriteResult>;
  /**
   * The change requests for this register, oldest first. A request counts as handled when the iterator
   * moves past it (asks for the next one); the next provider poll then acknowledges it. Until then, and
   * while requests are buffered here, the register is left out of the provider poll (backpressure).
   * Leaving a loop (`break`, a throw) does not handle the request in hand: iterating again gives it
   * first (at least once). One reader at a time. `req.done(result)`, `req.reject(message)` and
   * `req.fail(message)` report an outcome other than a plain `done` (see ChangeRequest).
   */
  readonly requests: AsyncIterableIterator<ChangeRequest>;
  /**
   * Marks the request in hand (the last one `requests` gave) handled now, without asking for the
   * next: the next provider poll acknowledges it. Returns false when no request is in hand.
   */
  ack(): boolean;
  /**
   * Gives the request in hand back: the next read of `requests` returns it again (at least once).
   * Returns false when no request is in hand.
   */
  nack(): boolean;
  /**
   * Runs `fn` for each request, one at a time, until the provision closes or `signal` aborts. A
   * request is handled when `fn` resolves; when it throws or passes `timeout` (its signal aborts),
   * `onError` is told and the same request is tried again after a backoff (0.5 s doubling to 30 s),
   * so a request is never dropped by a failing handler.
   */
  handle(
    fn: (request: ChangeRequest, signal: AbortSignal) => unknown,
    options?: {
      timeout?: Duration | undefined;
      signal?: AbortSignal | undefined;
      onError?: ((err: unknown, request: ChangeRequest) => void) | undefined;
    },
  ): Promise<void>;
  /** Stops refreshing and ends `requests`; deletes the register unless `keep` is true. */
  close(options?: { keep?: boolean | undefined }): Promise<void>;
}

/** What a provision needs from its client. */
export interface ProvisionHost {
  write(
    p: ProvisionImpl,
    value: Json,
    metadata: JsonObject | undefined,
    withTtl: boolean,
    conditions?: Conditions,
  ): Promise<WriteResult>;
  /** The provision's poll eligibility or refresh deadline changed. */
  changed(p: ProvisionImpl): void;
  /**
   * Sends a provider's outcome report (PUT /provider/acks, batched, retried); `epoch`: the server
   * history the request came from. Until it settles, `p.reportsPending` counts it.
   */
  report(p: ProvisionImpl, ack: AckInput, epoch: string | undefined): Promise<RequestOutcome>;
  release(p: ProvisionImpl, keep: boolean): Promise<void>;
}

export class ProvisionImpl implements Provision {
  /** True once the first write succeeded; only then is the register polled and refreshed. */
  registered = false;
  /** Every request for this register with an id ≤ watermark has been received here (see ProviderHub). */
  watermark = 0;
  /** Highest request id received: later answers repeat requests not yet acknowledged, and they are skipped. */
  maxReceived = 0;
  /** Highest request id handled by the reader. */
  lastHandled = 0;
  /**
   * Outcome reports of this register not yet confirmed by the server: until they are, the register
   * stays out of the provider poll, whose `after` would otherwise acknowledge them as `done` first.
   */
  reportsPending = 0;
  /** When the next TTL refresh is due (epoch ms), if the register has a TTL and no write is under way. */
  dueAt: number | undefined;
  lastModRevision: number | undefined;
  /** When (client clock) the last write that the server acknowledged was sent: the TTL runs from about then. */
  lastWriteAt: number | undefined;
  /** The provide() schema's check: throws ClientError INVALID_VALUE before anything is sent. */
  check: ((value: Json) => unknown) | undefined;
  readonly ready: Promise<void>;
  readonly requests: AsyncIterableIterator<ChangeRequest>;
  /** Received and not yet handled, oldest first (the head is the one the reader holds, if `handedOut`). */
  private readonly unhandled: ChangeRequest[] = [];
  /** Requests handled or reported: they take no (further) report. */
  private readonly settled = new WeakSet<ChangeRequest>();
  private handedOut = false;
  private reader: { resolve: (r: IteratorResult<ChangeRequest>) => void; reject: (e: unknown) => void } | undefined;
  private failure: { error: unknown } | undefined;
  private done = false;
  private settleReady: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private detach: () => void = () => {};

  constructor(
    readonly name: string,
    public value: Json,
    public metadata: JsonObject | undefined,
    readonly ttl: Duration | undefined,
    readonly ttlMs: number | undefined,
    private readonly host: ProvisionHost,
    signal: AbortSignal | undefined,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.ready.catch(() => {});
    this.requests = {
      next: () => this.nextRequest(),
      return: () => {
        // Leaving the loop does not handle the request in hand: the next iteration starts with it.
        this.handedOut = false;
        this.settleReader({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    if (signal) {
      const onAbort = (): void => void this.close({ keep: true }).catch(() => {});
      signal.addEventListener("abort", onAbort, { once: true });
      this.detach = () => signal.removeEventListener("abort", onAbort);
    }
  }

  get closed(): boolean {
    return this.done;
  }

  /** Polled only when the reader has handled everything it was given. */
  get eligible(): boolean {
    return this.registered && !this.done && this.unhandled.length === 0 && this.reportsPending === 0;
  }

  /** First write (called by the client right after construction). */
  start(): void {
    this.host.write(this, this.value, this.metadata, true).then(
      () => {
        if (this.done) return;
        this.registered = true;
        this.settleReady?.resolve();
        this.settleReady = undefined;
        this.host.changed(this);
      },
      (err: unknown) => {
        if (!this.done) this.fail(err);
      },
    );
  }

  set(value: Json, metadata?: JsonObject, conditions?: Conditions): Promise<WriteResult> {
    if (this.done) return Promise.reject(abortError());
    try {
      this.check?.(value);
    } catch (err) {
      return Promise.reject(err);
    }
    // Taken at once so that a TTL refresh queued meanwhile carries the new value, not the old one.
    const previous = { value: this.value, metadata: this.metadata };
    this.value = value;
    if (metadata !== undefined) this.metadata = metadata;
    return this.host.write(this, value, metadata, true, conditions).catch((err: unknown) => {
      if (this.value === value) this.value = previous.value;
      if (metadata !== undefined && this.metadata === metadata) this.metadata = previous.metadata;
      throw err;
    });
  }

  ack(): boolean {
    if (!this.handedOut) return false;
    this.handedOut = false;
    this.handled(this.unhandled.shift());
    if (this.unhandled.length === 0) this.host.changed(this);
    return true;
  }

  nack(): boolean {
    if (!this.handedOut) return false;
    this.handedOut = false;
    return true;
  }

  async handle(
    fn: (request: ChangeRequest, signal: AbortSignal) => unknown,
    options: {
      timeout?: Duration | undefined;
      signal?: AbortSignal | undefined;
      onError?: ((err: unknown, request: ChangeRequest) => void) | undefined;
    } = {},
  ): Promise<void> {
    const timeoutMs = options.timeout === undefined ? undefined : durationMs(options.timeout);
    const stop = options.signal;
    let failures = 0;
    const stopped = abortedResult(stop); // one listener for the whole loop
    while (!this.done && !stop?.aborted) {
      const next = await Promise.race([this.nextRequest(), stopped]);
      if (next.done) {
        // Stopped while waiting: leave as a `break` would, so that `requests` can be read again.
        if (stop?.aborted) await this.requests.return?.();
        return;
      }
      const request = next.value;
      const controller = new AbortController();
      const onStop = (): void => controller.abort(stop?.reason);
      stop?.addEventListener("abort", onStop, { once: true });
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(timeoutError(timeoutMs)), timeoutMs);
      try {
        await Promise.race([
          Promise.resolve().then(() => fn(request, controller.signal)),
          rejectOnAbort(controller.signal),
        ]);
        this.ack();
        failures = 0;
      } catch (err) {
        this.nack();
        if (stop?.aborted || this.done) return;
        // The handler reported an outcome before it threw: the request is handled, nothing to retry.
        if (this.settled.has(request)) {
          options.onError?.(err, request);
          continue;
        }
        options.onError?.(err, request);
        failures += 1;
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 10)), stop);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        stop?.removeEventListener("abort", onStop);
      }
    }
  }

  /**
   * Takes requests from a provider poll answer (skipping those already received); `epoch`: the
   * server history they belong to (their ids mean nothing in another one).
   */
  receive(requests: readonly WireChangeRequest[], epoch?: string): void {
    for (const r of requests) {
      if (r.id <= this.maxReceived || this.done) continue;
      this.maxReceived = r.id;
      this.unhandled.push(this.changeRequest(r, epoch));
    }
    if (this.reader && this.unhandled.length > 0) {
      this.handedOut = true;
      this.settleReader({ value: this.unhandled[0]!, done: false });
    }
  }

  /**
   * The server's history changed (it lost its data): ids received so far mean nothing there, so the
   * next poll acknowledges nothing and every request the new server holds is taken, whatever its id.
   * Requests received from the old history and not yet handled are still given to the reader.
   */
  resetCursor(): void {
    this.watermark = 0;
    this.maxReceived = 0;
  }

  /** Ends the provision with an error (a 4xx on its first write or on the provider poll). */
  fail(err: unknown): void {
    if (this.done) return;
    this.settleReady?.reject(err);
    this.settleReady = undefined;
    this.unhandled.length = 0;
    this.failure = { error: err };
    if (this.reader) {
      this.failure = undefined;
      const r = this.reader;
      this.reader = undefined;
      r.reject(err);
    }
    void this.finish(true);
  }

  async close(options: { keep?: boolean | undefined } = {}): Promise<void> {
    if (this.done) return;
    this.settleReady?.reject(abortError());
    this.settleReady = undefined;
    this.unhandled.length = 0;
    this.settleReader({ value: undefined, done: true });
    await this.finish(options.keep === true);
  }

  /**
   * A request with its report methods (not enumerable: the request still compares and serializes
   * as its wire fields).
   */
  private changeRequest(r: WireChangeRequest, epoch: string | undefined): ChangeRequest {
    const fields =
      r.requester === undefined
        ? { id: r.id, name: r.name, value: r.value, requestedAt: r.requestedAt }
        : { id: r.id, name: r.name, value: r.value, requestedAt: r.requestedAt, requester: r.requester };
    const item = fields as ChangeRequest;
    const report = (status: ReportStatus, result: Json | undefined, message: string | undefined) => {
      const p = this.report(item, epoch, status, result, message);
      p.catch(() => {});
      return p;
    };
    Object.defineProperties(item, {
      done: { value: (result?: Json) => report("done", result, undefined) },
      reject: { value: (message?: string, result?: Json) => report("rejected", result, message) },
      fail: { value: (message?: string, result?: Json) => report("failed", result, message) },
    });
    return item;
  }

  /**
   * Reports a request's outcome: it counts as handled at once (taken out of the buffer, the reader
   * goes on with the next) and the register stays out of the provider poll until the server has
   * the report, so the poll's `after` cannot acknowledge it as `done` first.
   */
  private report(
    item: ChangeRequest,
    epoch: string | undefined,
    status: ReportStatus,
    result: Json | undefined,
    message: string | undefined,
  ): Promise<RequestOutcome> {
    if (message !== undefined && (typeof message !== "string" || message.length > MAX_MESSAGE)) {
      return Promise.reject(
        new ClientError(400, "INVALID_BODY", `an outcome's message is a string of at most ${MAX_MESSAGE} characters`, {
          details: { id: item.id, name: this.name },
        }),
      );
    }
    if (this.settled.has(item)) {
      return Promise.reject(
        new ClientError(
          0,
          "ALREADY_HANDLED",
          `request ${item.id} of ${this.name} was already handled or reported: report an outcome before moving on`,
          { details: { id: item.id, name: this.name } },
        ),
      );
    }
    const at = this.unhandled.indexOf(item);
    if (at >= 0) {
      this.unhandled.splice(at, 1);
      if (at === 0) this.handedOut = false;
    }
    this.handled(item);
    const ack: { -readonly [K in keyof AckInput]: AckInput[K] } = { id: item.id, status };
    if (result !== undefined) ack.result = result;
    if (message !== undefined) ack.message = message;
    const sent = this.host.report(this, ack, epoch);
    if (this.unhandled.length === 0) this.host.changed(this);
    return sent;
  }

  private handled(item: ChangeRequest | undefined): void {
    if (item === undefined) return;
    this.settled.add(item);
    this.lastHandled = item.id;
  }

  private settleReader(result: IteratorResult<ChangeRequest>): void {
    const r = this.reader;
    this.reader = undefined;
    r?.resolve(result);
  }

  private async finish(keep: boolean): Promise<void> {
    this.done = true;
    this.dueAt = undefined;
    this.detach();
    this.detach = () => {};
    await this.host.release(this, keep);
  }

  private nextRequest(): Promise<IteratorResult<ChangeRequest>> {
    if (this.handedOut) {
      this.handedOut = false;
      this.handled(this.unhandled.shift());
      if (this.unhandled.length === 0) this.host.changed(this);
    }
    const head = this.unhandled[0];
    if (head) {
      this.handedOut = true;
      return Promise.resolve({ value: head, done: false });
    }
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.reader) return Promise.reject(new Error(`${this.name}: one reader of requests at a time`));
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }
}

function timeoutError(ms: number): DOMException {
  return new DOMException(`the handler took longer than ${ms} ms`, "TimeoutError");
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Resolves `{done: true}` when `signal` aborts (never, without one). */
function abortedResult(signal: AbortSignal | undefined): Promise<IteratorResult<never>> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve({ value: undefined, done: true });
    signal.addEventListener("abort", () => resolve({ value: undefined, done: true }), { once: true });
  });
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
