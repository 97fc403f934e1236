// Test helpers for the client: counting timers, a scripted fetch, and small readers for iterators.

import type { Json, Timers } from "#client";

/** Real timers that count how many are pending, so a test can assert that close() left none. */
export function countingTimers(): { timers: Timers; active(): number; created(): number } {
  const live = new Set<unknown>();
  let created = 0;
  return {
    timers: {
      setTimeout(fn, ms) {
        created += 1;
        const h = setTimeout(() => {
          live.delete(h);
          fn();
        }, ms);
        live.add(h);
        return h;
      },
      clearTimeout(h) {
        live.delete(h);
        clearTimeout(h as ReturnType<typeof setTimeout>);
      },
    },
    active: () => live.size,
    created: () => created,
  };
}

export interface Call {
  readonly method: string;
  readonly url: URL;
  readonly body: unknown;
  readonly signal: AbortSignal | undefined;
}

type Reply = Response | ((call: Call) => Response | Promise<Response>);

/**
 * A fetch that answers from a script: each route (method + path) takes its replies in order; a route with
 * no reply left holds the request until it is aborted (like a long-poll that never answers).
 */
export function scriptedFetch(script: Record<string, Reply[]>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    const call: Call = {
      method,
      url,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      signal: init?.signal ?? undefined,
    };
    calls.push(call);
    const reply = script[`${method} ${url.pathname}`]?.shift();
    if (reply !== undefined) return typeof reply === "function" ? reply(call) : reply;
    return new Promise<Response>((_, reject) => {
      const signal = init?.signal;
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  };
  return { fetch: fetchFn as typeof fetch, calls };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** Wire shape of a found register, for scripted answers. */
export function wire(name: string, value: Json, rev: { create: number; mod: number; version: number }) {
  return {
    name,
    found: true as const,
    value,
    metadata: {},
    version: rev.version,
    createRevision: rev.create,
    modRevision: rev.mod,
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    expiresAt: null,
  };
}

/** The next value of an iterator, failing the test if the iterator ended instead. */
export async function take<T>(it: AsyncIterator<T>): Promise<T> {
  const r = await it.next();
  if (r.done) throw new Error("the iterator ended");
  return r.value;
}
