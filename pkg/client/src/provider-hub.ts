// The one shared provider long-poll of a client, its acknowledgements (`after`) and the batched TTL refreshes.

import type { Connection } from "./connection.js";
import { guardMs, type HubOptions } from "./consumer-hub.js";
import { abortError, ClientError, isRetryable } from "./errors.js";
import type { Query } from "./http.js";
import type { ProvisionHost, ProvisionImpl } from "./provision.js";
import { Backoff, Latch, linkAbort, SpinGuard, sleep } from "./runtime.js";
import type {
  AckInput,
  AcksAnswer,
  Conditions,
  Json,
  JsonObject,
  ProviderAnswer,
  RegisterWrite,
  RequestOutcome,
  WireChangeRequest,
  WriteResult,
} from "./types.js";
import { MAX_BATCH, type Writer } from "./writer.js";

const RESTART = Symbol("restart");

/** An outcome report waiting for PUT /provider/acks. */
interface Report {
  readonly p: ProvisionImpl;
  readonly ack: AckInput;
  /** The server history the request came from: the PUT names it, so another history applies nothing. */
  readonly epoch: string | undefined;
  /** Goes out on its own PUT (a batch with it was refused). */
  alone: boolean;
  /** The app's promise; none for the bare status re-sent after the full report was refused. */
  readonly waiter: { resolve: (o: RequestOutcome) => void; reject: (e: unknown) => void } | undefined;
}

/**
 * One `after` serves every register of the poll, so it is the lowest *watermark* of the polled provisions.
 * A provision's watermark is the highest request id this client had seen when an answer of a poll that
 * included it came back: that answer carried every pending request of its register above the poll's
 * `after`, and any later request gets a higher id. A provision whose reader still holds requests is left
 * out of the poll until it has handled them, so a slow reader holds back only its own register.
 *
 * Ids and watermarks belong to one server history (epoch). The poll names the epoch of its `after`;
 * when an answer comes from another epoch (the server lost its data), every watermark is reset, so
 * nothing is acknowledged that this client never received. The server does the same on its side.
 */
export class ProviderHub implements ProvisionHost {
  private readonly provisions = new Map<string, ProvisionImpl>();
  private readonly polling = new Set<ProvisionImpl>();
  private maxSeen = 0;
  private readonly latch = new Latch();
  private longPoll: AbortController | undefined;
  private debounce: unknown;
  private loop: Promise<void> | undefined;
  private refreshTimer: unknown;
  private refreshAt: number | undefined;
  private refreshDirty = false;
  private deletes = new Map<string, { resolve: () => void; reject: (e: unknown) => void }[]>();
  /** The epoch the watermarks and maxSeen belong to. */
  private epoch: string | undefined;
  private readonly unlisten: (() => void)[];
  /** Outcome reports not yet sent (or to be sent again), oldest first. */
  private reports: Report[] = [];
  private reportsScheduled = false;
  private reportsFlushing: Promise<void> | undefined;
  private readonly reportBackoff: Backoff;

  constructor(
    private readonly o: HubOptions,
    private readonly writer: Writer,
    private readonly connection: Connection,
  ) {
    this.reportBackoff = new Backoff(o.retry, o.runtime.random);
    this.unlisten = [
      // A new history has none of our registers: put every one back, with value, metadata and TTL.
      connection.onEpochChange(() => this.recreateAll()),
      // The server answers again after an outage: refresh every TTL at once rather than on schedule.
      connection.onStateChange((now, before) => {
        if (now.state === "connected" && before.state === "reconnecting") this.refreshDue(true);
      }),
    ];
  }

  add(p: ProvisionImpl): void {
    if (this.provisions.has(p.name)) {
      // One provision per name: two would split one register's requests between two readers.
      throw new ClientError(
        0,
        "ALREADY_PROVIDED",
        `${p.name} is already provided by this client: close that provision first, or read its requests again`,
        { details: { name: p.name } },
      );
    }
    this.provisions.set(p.name, p);
    this.loop ??= this.run();
    p.start();
  }

  /** Closes every provision without deregistering (their TTLs run out) and waits for the loop to leave. */
  async close(): Promise<void> {
    const t = this.o.runtime.timers;
    if (this.debounce !== undefined) t.clearTimeout(this.debounce);
    if (this.refreshTimer !== undefined) t.clearTimeout(this.refreshTimer);
    this.debounce = this.refreshTimer = this.refreshAt = undefined;
    for (const u of this.unlisten) u();
    this.latch.wake();
    await Promise.all([...this.provisions.values()].map((p) => p.close({ keep: true })));
    await Promise.all([this.loop, this.reportsFlushing]);
  }

  changed(p: ProvisionImpl): void {
    if (p.eligible && !this.polling.has(p)) this.scheduleRestart();
    this.markRefreshDirty();
  }

  /**
   * Writes a provision's register. A write that (re-)created the register without metadata (a refresh
   * or set() after the register expired or the server lost it) is followed by one that puts the
   * provision's metadata back, and resolves with that one.
   */
  async write(
    p: ProvisionImpl,
    value: Json,
    metadata: JsonObject | undefined,
    withTtl: boolean,
    conditions: Conditions = {},
  ): Promise<WriteResult> {
    const w: { -readonly [K in keyof RegisterWrite]: RegisterWrite[K] } = { name: p.name, value };
    if (metadata !== undefined) w.metadata = metadata;
    if (withTtl && p.ttl !== undefined) w.ttl = p.ttl;
    if (conditions.ifVersion !== undefined) w.ifVersion = conditions.ifVersion;
    if (conditions.ifModRevision !== undefined) w.ifModRevision = conditions.ifModRevision;
    const conditional = conditions.ifVersion !== undefined || conditions.ifModRevision !== undefined;
    const sentAt = this.o.runtime.now();
    p.dueAt = undefined;
    try {
      // A conditional write must not be merged with (or replaced by) another write of the register.
      const r = conditional ? await this.writer.writeAlone(w) : await this.writer.write(w, this.retryDeadline(p));
      p.lastModRevision = r.modRevision;
      p.lastWriteAt = sentAt;
      if (r.changed === true && r.version === 1 && metadata === undefined && p.metadata !== undefined && !p.closed) {
        return await this.write(p, p.value, p.metadata, true);
      }
      return r;
    } finally {
      // Refresh at half the TTL counted from when the write left; after a failure, try again then too.
      if (!p.closed && p.ttlMs !== undefined && p.ttlMs > 0 && p.dueAt === undefined) p.dueAt = sentAt + p.ttlMs / 2;
      this.markRefreshDirty();
    }
  }

  /**
   * The latest time a retry of this provision's write may go out: the TTL counted from the last
   * acknowledged write, less a margin for the trip (a tenth of the TTL, 100 ms to 2 s). Backoff never
   * sleeps past it, so an outage shorter than the TTL does not expire the register.
   */
  private retryDeadline(p: ProvisionImpl): number | undefined {
    if (p.ttlMs === undefined || p.ttlMs <= 0 || p.lastWriteAt === undefined) return undefined;
    const margin = Math.min(2_000, Math.max(100, p.ttlMs / 10));
    return p.lastWriteAt + p.ttlMs - margin;
  }

  /** Writes every registered provision again in full (one batched PUT): the server lost them. */
  private recreateAll(): void {
    for (const p of this.provisions.values()) this.recreate(p);
  }

  private recreate(p: ProvisionImpl): void {
    if (!p.registered || p.closed) return;
    this.write(p, p.value, p.metadata, true).catch(() => {});
  }

  async release(p: ProvisionImpl, keep: boolean): Promise<void> {
    if (this.provisions.get(p.name) === p) this.provisions.delete(p.name);
    this.scheduleRestart();
    this.markRefreshDirty();
    await this.writer.cancel(p.name, abortError());
    if (keep || this.o.closed.aborted) return;
    // Outcomes reported before the close reach the server before the register (and its queue) goes.
    while (p.reportsPending > 0 && !this.o.closed.aborted) {
      await (this.reportsFlushing ?? new Promise<void>((resolve) => queueMicrotask(resolve)));
    }
    if (this.o.closed.aborted) return;
    await new Promise<void>((resolve, reject) => {
      const waiting = this.deletes.get(p.name);
      if (waiting) waiting.push({ resolve, reject });
      else this.deletes.set(p.name, [{ resolve, reject }]);
      if (this.deletes.size === 1 && !waiting) queueMicrotask(() => void this.flushDeletes());
    });
  }

  /**
   * Queues an outcome report. Reports made in the same tick (and while a PUT is in flight) go out
   * together, one PUT /provider/acks at a time; network errors and 5xx are retried with backoff
   * (the report stays queued, the register out of the poll), so an outage loses none.
   */
  report(p: ProvisionImpl, ack: AckInput, epoch: string | undefined): Promise<RequestOutcome> {
    if (this.o.closed.aborted) return Promise.reject(abortError(this.o.closed.reason));
    p.reportsPending += 1;
    return new Promise((resolve, reject) => {
      this.reports.push({ p, ack, epoch, alone: false, waiter: { resolve, reject } });
      this.scheduleReports();
    });
  }

  private scheduleReports(): void {
    if (this.reportsScheduled || this.reportsFlushing) return;
    this.reportsScheduled = true;
    queueMicrotask(() => {
      this.reportsScheduled = false;
      this.reportsFlushing = this.flushReports().finally(() => {
        this.reportsFlushing = undefined;
        if (this.reports.length > 0 && !this.o.closed.aborted) this.scheduleReports();
      });
    });
  }

  private async flushReports(): Promise<void> {
    while (this.reports.length > 0 && !this.o.closed.aborted) {
      const batch = this.takeReports();
      try {
        const answer = await this.o.transport.call<AcksAnswer>("PUT", "/provider/acks", {
          query: [["epoch", batch[0]!.epoch]],
          body: { acks: batch.map((r) => r.ack) },
          signal: this.o.closed,
          timeoutMs: 30_000,
        });
        this.reportBackoff.reset();
        for (const [i, r] of batch.entries()) this.answered(r, answer, answer.acks?.[i]);
      } catch (err) {
        // Put back in front: a report is never dropped by a failed PUT.
        if (this.o.closed.aborted || isRetryable(err)) this.reports.unshift(...batch);
        if (this.o.closed.aborted) break;
        if (isRetryable(err)) {
          const delay = this.reportBackoff.next((err as { retryAfterMs?: number }).retryAfterMs);
          this.connection.retrying(this.o.runtime.now() + delay);
          await this.connection.sleep(delay, this.o.closed);
        } else if (batch.length > 1) {
          // All or nothing at the server: send each alone, so the error reaches the report that caused it.
          for (const r of batch) r.alone = true;
          this.reports.unshift(...batch);
        } else {
          this.refused(batch[0]!, err);
        }
      }
    }
    if (this.o.closed.aborted) {
      const reason = abortError(this.o.closed.reason);
      for (const r of this.reports.splice(0)) this.settleReport(r, undefined, reason);
    }
  }

  /** The front of the queue: up to MAX_BATCH reports of one history, or the one that must go alone. */
  private takeReports(): Report[] {
    const first = this.reports[0]!;
    let n = 1;
    if (!first.alone) {
      while (n < this.reports.length && n < MAX_BATCH) {
        const r = this.reports[n]!;
        if (r.alone || r.epoch !== first.epoch) break;
        n += 1;
      }
    }
    return this.reports.splice(0, n);
  }

  private answered(r: Report, answer: AcksAnswer, entry: AcksAnswer["acks"][number] | undefined): void {
    if (entry !== undefined && entry.status !== "unknown") {
      this.settleReport(r, entry as RequestOutcome);
      return;
    }
    const details = { id: r.ack.id, name: r.p.name };
    const err =
      r.epoch !== undefined && answer.epoch !== undefined && answer.epoch !== r.epoch
        ? new ClientError(
            0,
            "EPOCH_CHANGED",
            `request ${r.ack.id} of ${r.p.name} belongs to a server history that is gone: its outcome was not reported`,
            { details },
          )
        : new ClientError(404, "REQUEST_NOT_FOUND", `the server does not know request ${r.ack.id}`, { details });
    this.settleReport(r, undefined, err);
  }

  /**
   * A 4xx for one report (e.g. a result over the server's value size limit): the app's promise
   * rejects with it, and the status alone is sent, so that the request does not end as a plain
   * `done` through the poll's `after`. If even that is refused, the poll acknowledges it.
   */
  private refused(r: Report, err: unknown): void {
    if (r.ack.result === undefined && r.ack.message === undefined) {
      this.settleReport(r, undefined, err);
      return;
    }
    r.waiter?.reject(err);
    const bare: Report = {
      p: r.p,
      ack: { id: r.ack.id, status: r.ack.status },
      epoch: r.epoch,
      alone: true,
      waiter: undefined,
    };
    this.reports.unshift(bare);
  }

  private settleReport(r: Report, outcome: RequestOutcome | undefined, err?: unknown): void {
    r.p.reportsPending -= 1;
    if (outcome !== undefined) r.waiter?.resolve(outcome);
    else r.waiter?.reject(err);
    if (r.p.reportsPending === 0) this.changed(r.p);
  }

  /** Deregistrations asked for in the same tick go out as one DELETE /provider. */
  private async flushDeletes(): Promise<void> {
    const all = [...this.deletes];
    this.deletes = new Map();
    for (let i = 0; i < all.length; i += MAX_BATCH) await this.deleteBatch(new Map(all.slice(i, i + MAX_BATCH)));
  }

  private async deleteBatch(
    batch: Map<string, { resolve: () => void; reject: (e: unknown) => void }[]>,
  ): Promise<void> {
    try {
      await this.o.transport.call("DELETE", "/provider", {
        query: [...batch.keys()].map((n) => ["name", n] as const),
        signal: this.o.closed,
        timeoutMs: 30_000,
      });
      for (const ws of batch.values()) for (const w of ws) w.resolve();
    } catch (err) {
      for (const ws of batch.values()) for (const w of ws) w.reject(err);
    }
  }

  private scheduleRestart(): void {
    if (this.debounce !== undefined || this.o.closed.aborted) return;
    this.debounce = this.o.runtime.timers.setTimeout(() => {
      this.debounce = undefined;
      this.longPoll?.abort(RESTART);
      this.latch.wake();
    }, this.o.debounceMs);
  }

  private markRefreshDirty(): void {
    if (this.refreshDirty) return;
    this.refreshDirty = true;
    queueMicrotask(() => {
      this.refreshDirty = false;
      this.armRefresh();
    });
  }

  private armRefresh(): void {
    if (this.o.closed.aborted) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const p of this.provisions.values()) if (p.dueAt !== undefined && p.dueAt < earliest) earliest = p.dueAt;
    if (earliest === this.refreshAt) return;
    const t = this.o.runtime.timers;
    if (this.refreshTimer !== undefined) t.clearTimeout(this.refreshTimer);
    this.refreshTimer = this.refreshAt = undefined;
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.refreshAt = earliest;
    this.refreshTimer = t.setTimeout(() => this.refreshDue(), Math.max(0, earliest - this.o.runtime.now()));
  }

  /**
   * Refreshes every register due now or within a quarter of its TTL (every one, when `all`), in the
   * same tick so the writer sends them as one PUT; registers registered close together thereby fall
   * into step.
   */
  private refreshDue(all = false): void {
    if (this.o.closed.aborted) return;
    if (this.refreshTimer !== undefined) this.o.runtime.timers.clearTimeout(this.refreshTimer);
    this.refreshTimer = this.refreshAt = undefined;
    const now = this.o.runtime.now();
    for (const p of this.provisions.values()) {
      if (p.dueAt === undefined || p.ttlMs === undefined) continue;
      if (!all && p.dueAt > now + p.ttlMs / 4) continue;
      // No metadata: a refresh must not overwrite metadata others publish (e.g. health) or make a
      // revision. If it re-creates the register, write() puts the metadata back.
      this.write(p, p.value, undefined, true).catch(() => {});
    }
    this.armRefresh();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(this.o.retry, this.o.runtime.random);
    const spin = new SpinGuard(this.o.retry?.initialMs ?? 250, this.o.runtime.random);
    while (!this.o.closed.aborted) {
      if (this.debounce !== undefined) {
        // Membership is changing: gather the rest of the changes before asking the server anything.
        await this.latch.wait();
        continue;
      }
      const batch = [...this.provisions.values()].filter((p) => p.eligible);
      if (batch.length === 0) {
        await this.latch.wait();
        continue;
      }
      let after = Number.POSITIVE_INFINITY;
      for (const p of batch) after = Math.min(after, p.watermark);
      const recovering = backoff.failures > 0;
      try {
        const sentAt = this.o.runtime.now();
        // After a failure the first poll is not held, so that an answer (and the server's epoch) comes at once.
        const answer = await this.get(batch, after, recovering ? 0 : this.o.waitMs);
        if (answer.epoch !== undefined && answer.epoch !== this.epoch) {
          if (this.epoch !== undefined) {
            this.maxSeen = 0;
            for (const p of this.provisions.values()) p.resetCursor();
          }
          this.epoch = answer.epoch;
        }
        for (const name of answer.missing ?? []) {
          // Deleted by someone, or lost by the server: a provision keeps its register there.
          const p = this.provisions.get(name);
          if (p) this.recreate(p);
        }
        const seenBefore = this.maxSeen;
        for (const r of answer.requests) if (r.id > this.maxSeen) this.maxSeen = r.id;
        const byName = new Map<string, WireChangeRequest[]>();
        for (const r of answer.requests) {
          const list = byName.get(r.name);
          if (list) list.push(r);
          else byName.set(r.name, [r]);
        }
        for (const p of batch) {
          p.watermark = Math.max(p.watermark, this.maxSeen);
          const list = byName.get(p.name);
          if (list)
            p.receive(
              list.sort((a, b) => a.id - b.id),
              this.epoch,
            );
        }
        backoff.reset();
        // Requests already received come back until acknowledged: one such quick answer is expected.
        const quick = !recovering && this.o.runtime.now() - sentAt < this.o.waitMs / 2;
        const pause = spin.pause(this.maxSeen > seenBefore, quick);
        if (pause > 0) await sleep(this.o.runtime, pause, this.o.closed);
      } catch (err) {
        if (this.o.closed.aborted) break;
        if (err === RESTART) continue;
        if (isRetryable(err)) {
          const delay = backoff.next((err as { retryAfterMs?: number }).retryAfterMs);
          this.connection.retrying(this.o.runtime.now() + delay);
          await this.connection.sleep(delay, this.o.closed);
          continue;
        }
        for (const p of batch) p.fail(err);
      }
    }
  }

  private async get(batch: readonly ProvisionImpl[], after: number, waitMs: number): Promise<ProviderAnswer> {
    const query: (readonly [string, string | number | undefined])[] = batch.map((p) => ["name", p.name] as const);
    query.push(["after", after > 0 ? after : undefined], ["wait", `${waitMs}ms`]);
    if (after > 0 && this.epoch !== undefined) query.push(["epoch", this.epoch]);
    const controller = new AbortController();
    const unlink = linkAbort(this.o.closed, controller);
    this.longPoll = controller;
    for (const p of batch) this.polling.add(p);
    try {
      return await this.o.transport.call<ProviderAnswer>("GET", "/provider", {
        query: query as Query,
        signal: controller.signal,
        timeoutMs: guardMs(waitMs),
      });
    } finally {
      this.polling.clear();
      if (this.longPoll === controller) this.longPoll = undefined;
      unlink();
    }
  }
}
