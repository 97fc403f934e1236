// GET /events read with fetch (not EventSource): headers (Last-Event-ID, a token) and the retry policy stay ours.

export type ConnectionState =
  | { readonly kind: "connecting" }
  | { readonly kind: "live" }
  | { readonly kind: "retrying"; readonly at: number; readonly reason: string }
  | { readonly kind: "unauthorized" }
  | { readonly kind: "closed" };

export interface StreamMessage {
  readonly event: string;
  readonly id: number | undefined;
  readonly data: string;
}

export interface EventStreamOptions {
  readonly url: string;
  readonly headers: () => Record<string, string>;
  readonly onMessage: (m: StreamMessage) => void;
  readonly onState: (s: ConnectionState) => void;
  /** Backoff bounds, ms. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * One logical subscription to /events that survives server restarts: every reconnect sends the
 * last revision seen as Last-Event-ID, so the server replays what was missed (or says `resync`).
 */
export class EventStream {
  #lastId: number | undefined;
  #abort: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #closed = false;
  readonly #o: EventStreamOptions;

  constructor(options: EventStreamOptions) {
    this.#o = options;
  }

  get lastId(): number | undefined {
    return this.#lastId;
  }

  start(after: number): void {
    this.#lastId = after;
    this.#connect();
  }

  /** Drops the connection and connects again at once (after a token was entered, say). */
  restart(): void {
    this.#abort?.abort();
    clearTimeout(this.#timer);
    this.#attempt = 0;
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    this.#abort?.abort();
    clearTimeout(this.#timer);
    this.#o.onState({ kind: "closed" });
  }

  #connect(): void {
    if (this.#closed) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#o.onState({ kind: "connecting" });
    void this.#read(abort.signal).then(
      (reason) => this.#retry(abort, reason),
      (err: unknown) => this.#retry(abort, err instanceof Error ? err.message : String(err)),
    );
  }

  #retry(abort: AbortController, reason: string | null): void {
    if (this.#closed || abort.signal.aborted || reason === null) return;
    // Full jitter on a capped exponential backoff, so a restarted server is not hit by every console at once.
    const min = this.#o.minDelayMs ?? 250;
    const max = this.#o.maxDelayMs ?? 5000;
    const delay = Math.min(max, min * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt = Math.min(this.#attempt + 1, 16);
    this.#o.onState({ kind: "retrying", at: Date.now() + delay, reason });
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  /** Reads one connection to its end; resolves with why it ended (null: stop, do not retry). */
  async #read(signal: AbortSignal): Promise<string | null> {
    const headers: Record<string, string> = { accept: "text/event-stream", ...this.#o.headers() };
    if (this.#lastId !== undefined) headers["last-event-id"] = String(this.#lastId);
    const res = await fetch(this.#o.url, { headers, signal, cache: "no-store" });
    if (res.status === 401 || res.status === 403) {
      this.#o.onState({ kind: "unauthorized" });
      return null;
    }
    if (!res.ok || !res.body) return `HTTP ${res.status}`;
    this.#attempt = 0;
    this.#o.onState({ kind: "live" });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = "message";
    let data: string[] = [];
    let id: number | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "the server ended the stream";
      buffer += value;
      let nl = buffer.search(/\r\n|\r|\n/);
      while (nl !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(buffer[nl] === "\r" && buffer[nl + 1] === "\n" ? nl + 2 : nl + 1);
        if (line === "") {
          if (data.length > 0) {
            if (id !== undefined) this.#lastId = id;
            this.#o.onMessage({ event, id, data: data.join("\n") });
          }
          event = "message";
          data = [];
          id = undefined;
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          const v = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = v;
          else if (field === "data") data.push(v);
          else if (field === "id" && /^\d+$/.test(v)) id = Number(v);
        }
        nl = buffer.search(/\r\n|\r|\n/);
      }
    }
  }
}
