// The HTTP side of the client commands: global fetch against one server URL, with the API's error body decoded.

import { UsageError } from "./command.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";

/** The server answered with an error body `{"error": {code, message}}` (or a status without one). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** 5xx (503 while the server stops) and 429 may pass with time; any other 4xx is the caller's mistake. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** The server could not be reached (refused, reset, DNS, TLS …). */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
}

export type Query = ReadonlyArray<readonly [string, string]>;

export interface Client {
  readonly url: string;
  json<T>(method: string, path: string, options?: { query?: Query; body?: unknown; signal?: AbortSignal }): Promise<T>;
  text(path: string, options?: { signal?: AbortSignal }): Promise<string>;
}

/** The server URL: `--url`, else SWITCHBOARD_URL, else the default; a malformed one is a usage error. */
export function resolveUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = flag ?? (env.SWITCHBOARD_URL || DEFAULT_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url: not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--url: expected an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  return url.href.replace(/\/+$/, "");
}

export function createClient(url: string): Client {
  async function send(method: string, path: string, query: Query, body: unknown, signal?: AbortSignal) {
    const target = new URL(url + path);
    for (const [k, v] of query) target.searchParams.append(k, v);
    const init: RequestInit = { method, headers: { accept: "application/json" } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { accept: "application/json", "content-type": "application/json" };
    }
    if (signal) init.signal = signal;
    let res: Response;
    try {
      res = await fetch(target, init);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new NetworkError(`cannot reach ${url}: ${describeFetchFailure(err)}`, { cause: err });
    }
    if (!res.ok) throw await apiError(res);
    return res;
  }

  return {
    url,
    async json<T>(method: string, path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal } = {}) {
      const res = await send(method, path, options.query ?? [], options.body, options.signal);
      const text = await res.text();
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError(res.status, "BAD_RESPONSE", `${method} ${path} did not answer JSON: ${text.slice(0, 200)}`);
      }
    },
    async text(path: string, options: { signal?: AbortSignal } = {}) {
      const res = await send("GET", path, [], undefined, options.signal);
      return res.text();
    },
  };
}

async function apiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const e = body.error;
    if (e && typeof e.code === "string") {
      return new ApiError(res.status, e.code, typeof e.message === "string" ? e.message : res.statusText);
    }
  } catch {
    // Not the API's error shape (a proxy in between, say): report the status and the start of the body.
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(res.status, `HTTP_${res.status}`, snippet || res.statusText || "request failed");
}

/** undici reports "fetch failed" and hides the reason in `cause` (an AggregateError for dual-stack connects). */
function describeFetchFailure(err: unknown): string {
  let cause: unknown = (err as { cause?: unknown }).cause ?? err;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  const e = cause as { message?: unknown; code?: unknown };
  if (typeof e.message === "string" && e.message !== "") return e.message;
  if (typeof e.code === "string") return e.code;
  return String(cause);
}

/** The one line printed for a failure: `error CODE: message`, or `error: message` without a code. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `error ${err.code}: ${err.message}`;
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}
