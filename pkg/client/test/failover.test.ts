// Several node URLs: the transport moves to the next node after a connection failure or a failover answer, and stays on a node that answers.

import { describe, expect, it } from "vitest";
import { Connection } from "#src/connection.js";
import { ClientError, ConnectionError } from "#src/errors.js";
import { Transport } from "#src/http.js";
import type { Runtime } from "#src/runtime.js";
import { countingTimers } from "./helpers.js";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function setup(answers: Record<string, () => Response>) {
  const rt: Runtime = { timers: countingTimers().timers, now: () => 1_000, random: () => 0.5 };
  const asked: string[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    const url = String(input);
    const node = new URL(url).hostname;
    asked.push(node);
    const answer = answers[node];
    if (!answer) throw new TypeError("fetch failed: connection refused");
    return answer();
  }) as typeof fetch;
  const t = new Transport(["http://a:1/", "http://b:1", "http://c:1"], undefined, fetchFn, rt, new Connection(rt));
  const call = () => t.call<{ ok: boolean }>("GET", "/status", { signal: new AbortController().signal });
  return { t, asked, call };
}

describe("a client given several node URLs", () => {
  it("moves on after a connection failure and after 503 NO_WRITER / NOT_WRITER, and stays on a node that answers", async () => {
    const { t, asked, call } = setup({
      b: () => json(503, { error: { code: "NO_WRITER", message: "no writer" } }),
      c: () => json(200, { ok: true }),
    });
    expect(t.base).toBe("http://a:1");
    await expect(call()).rejects.toBeInstanceOf(ConnectionError);
    expect(t.base).toBe("http://b:1");
    await expect(call()).rejects.toMatchObject({ status: 503, code: "NO_WRITER" });
    expect(t.base).toBe("http://c:1");
    expect(await call()).toEqual({ ok: true });
    expect(await call()).toEqual({ ok: true });
    expect(asked).toEqual(["a", "b", "c", "c"]);
  });

  it("does not move on after an answer another node would give too (4xx, a plain 500)", async () => {
    const { t, call } = setup({
      a: () => json(409, { error: { code: "VERSION_CONFLICT", message: "no" } }),
    });
    await expect(call()).rejects.toBeInstanceOf(ClientError);
    expect(t.base).toBe("http://a:1");
  });

  it("wraps around to the first URL", async () => {
    const { t, call } = setup({});
    for (let i = 0; i < 3; i++) await expect(call()).rejects.toBeInstanceOf(ConnectionError);
    expect(t.base).toBe("http://a:1");
  });

  it("refuses an empty list", () => {
    const rt: Runtime = { timers: countingTimers().timers, now: () => 0, random: () => 0 };
    expect(() => new Transport([], undefined, fetch, rt, new Connection(rt))).toThrow(TypeError);
  });
});
