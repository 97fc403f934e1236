// The console's view of the server: the client package for registers and writes, plain GETs for /status, /metrics and pending requests.

import { ClientError, type Json, type JsonObject, type ListPage, SwitchboardClient } from "@switchboard/client";

export type Reg = ListPage["registers"][number];

export interface PendingRequest {
  readonly id: number;
  readonly name: string;
  readonly value: Json;
  readonly requestedAt: string;
  readonly requester?: string;
}

export interface ServerStatus {
  readonly status: string;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly revision: number;
  readonly registers: number;
  readonly queuedRequests?: number;
  readonly waiters: number | Record<string, number>;
  readonly storage: { readonly name: string; readonly healthy: boolean };
  readonly listeners: readonly { protocol: string; transport: string; host: string; port: number }[];
}

/** Largest page GET /registers serves. */
export const PAGE_SIZE = 1000;

export class Api {
  #client: SwitchboardClient;
  #token: string | undefined;

  constructor(
    readonly base: string,
    token?: string,
  ) {
    this.#token = token;
    this.#client = this.#makeClient();
  }

  #makeClient(): SwitchboardClient {
    return new SwitchboardClient({ url: this.base, ...(this.#token === undefined ? {} : { token: this.#token }) });
  }

  /** Sent with every call, the event stream included; a token never goes into a URL. */
  headers(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  setToken(token: string | undefined): void {
    this.#token = token;
    void this.#client.close();
    this.#client = this.#makeClient();
  }

  list(cursor: string | undefined, signal?: AbortSignal): Promise<ListPage> {
    return this.#client.list({ limit: PAGE_SIZE, cursor, signal });
  }

  set(name: string, value: Json, options: { metadata?: JsonObject; ttl?: string | number }) {
    return this.#client.set(name, value, options);
  }

  delete(name: string) {
    return this.#client.delete(name);
  }

  request(name: string, value: Json) {
    return this.#client.request(name, value);
  }

  /** The register's queued change requests, read without acknowledging any (no `after`, no wait). */
  pending(name: string, signal?: AbortSignal): Promise<{ index: number; requests: PendingRequest[] }> {
    return this.#json(`/provider?name=${encodeURIComponent(name)}&wait=0`, signal);
  }

  /** Every queued change request of the server (the same read, for all registers at once). */
  allPending(signal?: AbortSignal): Promise<{ index: number; requests: PendingRequest[] }> {
    return this.#json("/provider?prefix=&wait=0", signal);
  }

  status(signal?: AbortSignal): Promise<ServerStatus> {
    return this.#json("/status", signal);
  }

  async metrics(signal?: AbortSignal): Promise<string> {
    const res = await this.#get("/metrics", signal);
    return res.text();
  }

  async #json<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await (await this.#get(path, signal)).json()) as T;
  }

  async #get(path: string, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(`${this.base}${path}`, {
      headers: { accept: "application/json", ...this.headers() },
      ...(signal ? { signal } : {}),
    });
    if (!res.ok) {
      let code = `HTTP_${res.status}`;
      let message = res.statusText;
      try {
        const body = (await res.json()) as { error?: { code?: string; message?: string } };
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
      } catch {
        // not a JSON error body
      }
      throw new ClientError(res.status, code, message);
    }
    return res;
  }
}

/** A short, human message for anything a call threw. */
export function describeError(err: unknown): string {
  if (err instanceof ClientError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export function isUnauthorized(err: unknown): boolean {
  return err instanceof ClientError && (err.status === 401 || err.status === 403);
}
