// Ties the console together: the paged initial load, the live event stream, resyncs and the activity log.

import { ActivityLog } from "./activity.js";
import { type Api, describeError, isUnauthorized, type PendingRequest, type Reg } from "./api.js";
import { type ConnectionState, EventStream, type StreamMessage } from "./events.js";
import { RegisterStore } from "./store.js";

type Payload = {
  type: string;
  name: string;
  revision: number;
  register?: Reg;
  request?: PendingRequest;
  upTo?: number;
  reason?: string;
};

/** Most pages one load reads (100,000,000 registers at 1,000 a page): a bound, not an expectation. */
const MAX_PAGES = 100_000;
/** Queued change requests read in one answer at load; above it, a register's are read when it is opened. */
const MAX_SEEDED_REQUESTS = 5000;

export class Session {
  readonly store = new RegisterStore();
  readonly log = new ActivityLog();
  state: ConnectionState = { kind: "connecting" };
  loadError: string | null = null;
  readonly #stream: EventStream;
  readonly #listeners = new Set<() => void>();
  #load: AbortController | undefined;
  #loadRetry: ReturnType<typeof setTimeout> | undefined;
  #streaming = false;

  constructor(readonly api: Api) {
    this.#stream = new EventStream({
      url: `${api.base}/events`,
      headers: () => api.headers(),
      onMessage: (m) => this.#onMessage(m),
      onState: (s) => {
        this.state = s;
        this.#notify();
      },
    });
  }

  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #notify(): void {
    for (const fn of this.#listeners) fn();
  }

  start(): void {
    void this.load();
  }

  /** After a token was entered: reload and reconnect with it. */
  retryNow(): void {
    void this.load();
    if (this.#streaming) this.#stream.restart();
  }

  /** Reads every register page by page; the first page's index is where the event stream starts. */
  async load(): Promise<void> {
    this.#load?.abort();
    clearTimeout(this.#loadRetry);
    const abort = new AbortController();
    this.#load = abort;
    const { store } = this;
    store.loading = true;
    store.reset();
    this.#notify();
    try {
      let next = this.api.list(undefined, abort.signal);
      for (let pages = 0; pages < MAX_PAGES; pages++) {
        const page = await next;
        if (abort.signal.aborted) return;
        // The next page is asked for before this one is applied: the server works while the browser does.
        const more = page.cursor !== null;
        if (more) next = this.api.list(page.cursor ?? undefined, abort.signal);
        store.seen(page.index);
        for (const r of page.registers) store.upsert(r, false);
        if (!this.#streaming) {
          this.#streaming = true;
          this.#stream.start(page.index);
        }
        this.loadError = null;
        this.#notify();
        if (!more) break;
      }
      store.loading = false;
      store.loads++;
      this.#notify();
      // Badges only: a failure here leaves them to the events and to opening a register.
      this.#loadPending(abort.signal).catch(() => undefined);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.loadError = describeError(err);
      if (isUnauthorized(err)) this.state = { kind: "unauthorized" };
      else this.#loadRetry = setTimeout(() => void this.load(), 2000);
      this.#notify();
    }
  }

  /** Seeds the rows' pending-request badges, unless the server holds so many that one answer would be large. */
  async #loadPending(signal: AbortSignal): Promise<void> {
    const status = await this.api.status(signal);
    if ((status.queuedRequests ?? Number.POSITIVE_INFINITY) > MAX_SEEDED_REQUESTS) return;
    const { requests } = await this.api.allPending(signal);
    const byName = new Map<string, PendingRequest[]>();
    for (const r of requests) {
      const list = byName.get(r.name);
      if (list) list.push(r);
      else byName.set(r.name, [r]);
    }
    for (const [name, list] of byName) this.store.setPending(name, list);
  }

  #onMessage(m: StreamMessage): void {
    const { store, log } = this;
    if (m.event === "resync") {
      // The server cannot replay what we missed (restarted without it, or too far behind): read it all again.
      log.push("resync", "", m.id ?? 0, "reloading every register");
      if (m.id !== undefined) store.seen(m.id);
      void this.load();
      return;
    }
    let p: Payload;
    try {
      p = JSON.parse(m.data) as Payload;
    } catch {
      return;
    }
    store.seen(p.revision);
    switch (p.type) {
      case "set":
        if (p.register) store.upsert(p.register, true);
        log.push("set", p.name, p.revision, p.register ? `v${p.register.version} ${preview(p.register.value)}` : "");
        break;
      case "delete":
      case "expire":
        store.remove(p.name, p.revision);
        log.push(p.type, p.name, p.revision, "");
        break;
      case "request":
        if (p.request) store.addRequest(p.request);
        log.push("request", p.name, p.revision, p.request ? `#${p.request.id} ${preview(p.request.value)}` : "");
        break;
      case "ack":
        store.ack(p.name, p.upTo ?? 0, p.reason ?? "acknowledged", p.revision);
        log.push("ack", p.name, p.revision, `up to #${p.upTo} (${p.reason})`);
        break;
      default:
        log.push(p.type, p.name, p.revision, "");
    }
    this.#notify();
  }

  close(): void {
    this.#load?.abort();
    clearTimeout(this.#loadRetry);
    this.#stream.close();
  }
}

/** A JSON value on one line, cut to `max` characters. */
export function preview(value: unknown, max = 80): string {
  const s = JSON.stringify(value) ?? "";
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
