// Failure handling against a scripted server: backoff with jitter, typed 4xx errors, resync answers.

import { describe, expect, it, vi } from "vitest";
import { ClientError, SwitchboardClient, type Timers } from "#client";
import { json, scriptedFetch, take, wire } from "./helpers.js";

/** Timers that fire at once but record the delays asked for. */
function recordingTimers(): { timers: Timers; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    timers: {
      setTimeout(fn, ms) {
        delays.push(ms);
        return setTimeout(fn, 0);
      },
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    },
  };
}

const URL_ = "http://switchboard.invalid";

describe("failures", () => {
  it("retries network errors and 5xx with capped exponential backoff and full jitter, then resumes", async () => {
    const rec = recordingTimers();
    const fail = () => {
      throw new TypeError("fetch failed");
    };
    const { fetch, calls } = scriptedFetch({
      "GET /consumer": [
        fail,
        new Response("busy", { status: 503 }),
        fail,
        fail,
        json({ index: 7, registers: [wire("a", 1, { create: 7, mod: 7, version: 1 })] }),
      ],
    });
    const client = new SwitchboardClient({
      url: URL_,
      fetch,
      timers: rec.timers,
      random: () => 0.5,
      retry: { initialMs: 100, maxMs: 300 },
      debounceMs: 0,
    });
    const sub = client.consume("a");
    expect(await take(sub)).toMatchObject({ value: 1, index: 7 });
    // Debounce (0), then per attempt a guard timer (10 s) and a backoff of random·min(max, initial·2ⁿ).
    const backoffs = rec.delays.filter((ms) => ms !== 0 && ms < 10_000);
    expect(backoffs).toEqual([50, 100, 150, 150]);
    // The next request is the held poll, from the index of the answer.
    await vi.waitFor(() => expect(calls).toHaveLength(6));
    const last = calls.at(-1)!;
    expect(last.url.searchParams.get("index")).toBe("7");
    expect(last.url.searchParams.getAll("name")).toEqual(["a"]);
    await client.close();
  });

  it("throws a 4xx from the iterator as a ClientError with the server's code and details", async () => {
    const { fetch } = scriptedFetch({
      "GET /consumer": [json({ error: { code: "FORBIDDEN", message: "no access to a", details: { name: "a" } } }, 403)],
    });
    const client = new SwitchboardClient({ url: URL_, fetch, debounceMs: 0 });
    const sub = client.consume("a");
    const err = await sub.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ status: 403, code: "FORBIDDEN", message: "no access to a", details: { name: "a" } });
    await expect(sub.ready).rejects.toBe(err);
    expect(await sub.next()).toEqual({ value: undefined, done: true });
    await client.close();
  });

  it("gives thin calls a ClientError with Retry-After, and rejects bad names before sending", async () => {
    const { fetch, calls } = scriptedFetch({
      "PUT /consumer": [
        json({ error: { code: "QUEUE_FULL", message: "queue of a is full" } }, 429, { "retry-after": "2" }),
      ],
    });
    const client = new SwitchboardClient({ url: URL_, fetch });
    const err = await client.request("a", 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "ClientError", status: 429, code: "QUEUE_FULL", retryAfterMs: 2000 });
    expect(() => client.consume("bad name!")).toThrow(ClientError);
    await expect(client.set("", 1)).rejects.toMatchObject({ code: "INVALID_NAME" });
    expect(calls).toHaveLength(1);
    await client.close();
  });

  it("handles a resync answer: reports what differs, nothing else, and goes on from the new index", async () => {
    const { fetch, calls } = scriptedFetch({
      "GET /consumer": [
        json({
          index: 5,
          registers: [
            wire("p/a", 1, { create: 2, mod: 2, version: 1 }),
            wire("p/b", 1, { create: 3, mod: 3, version: 1 }),
          ],
        }),
        json({
          index: 90,
          resync: true,
          registers: [
            wire("p/a", 1, { create: 2, mod: 2, version: 1 }),
            wire("p/c", 3, { create: 80, mod: 80, version: 1 }),
          ],
        }),
      ],
    });
    const client = new SwitchboardClient({ url: URL_, fetch, debounceMs: 0 });
    const sub = client.consume({ prefix: "p/" });
    const first = [await take(sub), await take(sub)].map((i) => i.name);
    expect(first).toEqual(["p/a", "p/b"]);
    const after = [await take(sub), await take(sub)].map((i) => [i.name, i.found]);
    expect(after).toEqual([
      ["p/c", true],
      ["p/b", false],
    ]);
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    expect(calls.at(-1)!.url.searchParams.get("index")).toBe("90");
    expect(calls.at(-1)!.url.searchParams.getAll("prefix")).toEqual(["p/"]);
    await client.close();
  });
});
