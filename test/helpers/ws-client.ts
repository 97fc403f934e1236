// A small JSON-RPC-over-WebSocket test client (npm ws): send frames, await answers by id or any message by predicate.

import WebSocket from "ws";

type Json = any;

export class WsClient {
  readonly ws: WebSocket;
  /** Every parsed message received, in order. */
  readonly received: Json[] = [];
  readonly #waiters = new Set<{ match: (m: Json) => boolean; resolve: (m: Json) => void }>();
  #nextId = 1_000_000;
  /** Resolves with the close code once the server (or the client) closed the socket. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data: Buffer) => {
      const msg = JSON.parse(data.toString("utf8"));
      this.received.push(msg);
      for (const w of [...this.#waiters]) {
        if (w.match(msg)) {
          this.#waiters.delete(w);
          w.resolve(msg);
        }
      }
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(url, options);
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return client;
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message (already received or still to come) that matches. */
  next(match: (m: Json) => boolean, timeoutMs = 5000): Promise<Json> {
    const seen = this.received.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (m: Json) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(
          new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received).slice(-500)}`),
        );
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  /** Sends a request and resolves with its whole response (result or error). */
  request(method: string, params?: unknown): Promise<Json> {
    const id = this.#nextId++;
    this.send({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
    return this.next((m) => m.id === id && ("result" in m || "error" in m));
  }

  /** Sends a request and resolves with its result; rejects with the JSON-RPC error. */
  async call(method: string, params?: unknown): Promise<Json> {
    const r = await this.request(method, params);
    if (r.error) throw Object.assign(new Error(r.error.message), { rpc: r.error });
    return r.result;
  }

  /** Hub style: `<hub>.call`, then the subscription's items up to and including `done`. */
  async hubCall(hub: string, method: string, params?: unknown): Promise<{ subscription: number; items: Json[] }> {
    const subscription = await this.call(`${hub}.call`, { method, ...(params === undefined ? {} : { params }) });
    await this.next((m) => m.params?.subscription === subscription && m.params?.result?.type === "done");
    const items = this.received.filter((m) => m.params?.subscription === subscription).map((m) => m.params.result);
    return { subscription, items };
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}
