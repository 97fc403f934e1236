// The CLI's side of the API: one @switchboard/client per command, its errors turned into one printed line.

import {
  ClientError,
  type ClientOptions,
  ConnectionError,
  SwitchboardClient,
  VersionConflictError,
} from "@switchboard/client";
import { UsageError } from "./command.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";

export type Query = ReadonlyArray<readonly [string, string]>;

/** What the commands use: the server's JSON as it is (for --json) through the client package. */
export interface Client {
  readonly url: string;
  readonly api: SwitchboardClient;
  json<T>(
    method: "GET" | "PUT" | "POST" | "DELETE",
    path: string,
    options?: { query?: Query; body?: unknown; signal?: AbortSignal },
  ): Promise<T>;
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

export function createClient(url: string, token?: string, options: Omit<ClientOptions, "url" | "token"> = {}): Client {
  const api = new SwitchboardClient({ ...options, url, ...(token === undefined ? {} : { token }) });
  return {
    url,
    api,
    json<T>(
      method: "GET" | "PUT" | "POST" | "DELETE",
      path: string,
      options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
    ) {
      return api.raw<T>(method, path, options).catch((err: unknown) => {
        throw err instanceof ConnectionError ? new ConnectionError(`cannot reach ${url}: ${reachFailure(err)}`) : err;
      });
    },
  };
}

/** A failure as one line: `cannot reach URL: reason` when no answer came, else as describeError. */
export function describeFailure(err: unknown, url: string): string {
  return err instanceof ConnectionError ? `cannot reach ${url}: ${reachFailure(err)}` : describeError(err);
}

/** fetch reports "fetch failed" and hides the reason in `cause` (an AggregateError for dual-stack connects). */
function reachFailure(err: ConnectionError): string {
  let cause: unknown = (err.cause as { cause?: unknown } | undefined)?.cause ?? err.cause ?? err;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  const e = cause as { message?: unknown; code?: unknown };
  if (typeof e.message === "string" && e.message !== "") return e.message;
  if (typeof e.code === "string") return e.code;
  return err.message;
}

/** 5xx (503 while the server stops) and 429 may pass with time; any other 4xx is the caller's mistake. */
export function isRetryable(err: unknown): boolean {
  return err instanceof ConnectionError || (err instanceof ClientError && (err.status >= 500 || err.status === 429));
}

/** The one line printed for a failure: `error CODE: message`, or `error: message` without a code. */
export function describeError(err: unknown): string {
  if (err instanceof VersionConflictError) {
    const now = err.conflicts.map((c) => `${c.name} is at version ${c.version}`).join(", ");
    return `error ${err.code}: ${err.message}${now === "" ? "" : ` (${now})`}`;
  }
  if (err instanceof ClientError) return `error ${err.code}: ${err.message}`;
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}
