// One HTTP exchange with the server: URL and query building, auth, abort and guard timeout, error bodies → ClientError.

import type { Connection } from "./connection.js";
import { ClientError, ConnectionError, VersionConflictError } from "./errors.js";
import { linkAbort, type Runtime } from "./runtime.js";

export type Query = readonly (readonly [string, string | number | undefined])[];

export interface CallOptions {
  readonly query?: Query;
  readonly body?: unknown;
  /** Aborting it aborts the exchange; the call then rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /** The client's own bound on the whole exchange; past it the call fails with a ConnectionError. */
  readonly timeoutMs?: number;
}

/** Query values keep `/` and `:` readable: names are long and a long-poll names up to 1,000 of them. */
function encodeQueryValue(v: string): string {
  return encodeURIComponent(v).replace(/%2F/gi, "/").replace(/%3A/gi, ":");
}

export function buildQuery(query: Query | undefined): string {
  if (!query || query.length === 0) return "";
  const parts: string[] = [];
  for (const [k, v] of query) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeQueryValue(String(v))}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function errorFrom(res: Response, now: number): Promise<ClientError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let details: unknown;
  try {
    const body: unknown = await res.json();
    const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    if (err && typeof err === "object") {
      if (typeof err.code === "string") code = err.code;
      if (typeof err.message === "string") message = err.message;
      details = err.details;
    }
  } catch {
    // Not a JSON error body (a proxy's HTML page, say): status and statusText are all there is.
  }
  if (res.status === 409 && code === "VERSION_CONFLICT") return new VersionConflictError(message, details);
  return new ClientError(res.status, code, message, {
    details,
    retryAfterMs: retryAfterMs(res.headers.get("retry-after"), now),
  });
}

/** A bearer token, or a function giving the current one (called for every request, so it can refresh). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export const EPOCH_HEADER = "x-switchboard-epoch";

/** Answers after which another node of a cluster may do better: this one takes no writes, or is going away. */
const FAIL_OVER_CODES = new Set(["NO_WRITER", "NOT_WRITER", "SHUTTING_DOWN", "NOT_READY", "STORAGE_UNAVAILABLE"]);

export class Transport {
  private readonly bases: readonly string[];
  /** The node exchanges go to; moves to the next URL after a connection failure or a failover answer. */
  private current = 0;

  constructor(
    url: string | readonly string[],
    private readonly token: TokenSource | undefined,
    private readonly fetchFn: typeof fetch,
    private readonly rt: Runtime,
    private readonly connection: Connection,
  ) {
    const urls = typeof url === "string" ? [url] : [...url];
    if (urls.length === 0) throw new TypeError("url: name at least one server URL");
    this.bases = urls.map((u) => u.replace(/\/+$/, ""));
  }

  /** The base URL exchanges go to now (one of the configured URLs). */
  get base(): string {
    return this.bases[this.current]!;
  }

  /** Moves to the next node (when several URLs were given); the caller's retry then goes there. */
  private failOver(from: number): void {
    // Several exchanges may fail at once: only the first moves on from the node they used.
    if (this.bases.length > 1 && this.current === from) this.current = (from + 1) % this.bases.length;
  }

  async call<T>(method: string, path: string, options: CallOptions): Promise<T> {
    const controller = new AbortController();
    const unlink = linkAbort(options.signal, controller);
    let timedOut = false;
    const guard =
      options.timeoutMs === undefined
        ? undefined
        : this.rt.timers.setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, options.timeoutMs);
    const headers: Record<string, string> = { accept: "application/json" };
    const init: RequestInit = { method, headers, signal: controller.signal };
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const exchange = this.connection.begin();
    const node = this.current;
    try {
      const token = typeof this.token === "function" ? await this.token() : this.token;
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      const res = await this.fetchFn(`${this.bases[node]}${path}${buildQuery(options.query)}`, init);
      if (res.status >= 500) {
        const err = await errorFrom(res, this.rt.now());
        if (FAIL_OVER_CODES.has(err.code) || err.status === 502 || err.status === 504) this.failOver(node);
        this.connection.failed(err, exchange);
        throw err;
      }
      this.connection.answered(res.headers.get(EPOCH_HEADER), exchange);
      if (!res.ok) throw await errorFrom(res, this.rt.now());
      try {
        return (await res.json()) as T;
      } catch (err) {
        if (controller.signal.aborted) throw err;
        throw new ConnectionError(`${method} ${path}: the answer is not JSON`, { cause: err });
      }
    } catch (err) {
      if (err instanceof ClientError || err instanceof ConnectionError) throw err;
      if (options.signal.aborted) throw options.signal.reason;
      const failure = timedOut
        ? new ConnectionError(`${method} ${path}: no answer within ${options.timeoutMs} ms`)
        : new ConnectionError(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      this.failOver(node);
      this.connection.failed(failure, exchange);
      throw failure;
    } finally {
      if (guard !== undefined) this.rt.timers.clearTimeout(guard);
      unlink();
    }
  }
}
