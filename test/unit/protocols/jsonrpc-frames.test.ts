// JSON-RPC framing, error mapping and the per-connection token bucket, without sockets.

import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../../src/core/index.js";
import { TokenBucket } from "../../../src/protocols/jsonrpc/rate-limit.js";
import { errorFromSwitchboard, parseFrame } from "../../../src/protocols/jsonrpc/rpc.js";
import { FakeClock } from "../../helpers/fake-clock.js";

describe("parseFrame", () => {
  it("tells requests from notifications, keeping id null as a request", () => {
    expect(parseFrame('{"jsonrpc":"2.0","id":null,"method":"m"}', 10)).toEqual({
      kind: "single",
      entry: { request: { id: null, method: "m", params: undefined } },
    });
    expect(parseFrame('{"jsonrpc":"2.0","method":"m","params":[1]}', 10)).toEqual({
      kind: "single",
      entry: { request: { id: undefined, method: "m", params: [1] } },
    });
  });

  it("rejects non-JSON, empty and oversized batches as one answer", () => {
    expect(parseFrame("{", 10)).toMatchObject({ kind: "reject", response: { id: null, error: { code: -32700 } } });
    expect(parseFrame("[]", 10)).toMatchObject({ kind: "reject", response: { error: { code: -32600 } } });
    expect(parseFrame("[1,2,3]", 2)).toMatchObject({ kind: "reject", response: { error: { code: -32600 } } });
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    expect(parseFrame(deep, 10).kind).not.toBe("single");
  });

  it("answers each bad entry of a batch with -32600, echoing a usable id", () => {
    const f = parseFrame('[{"jsonrpc":"2.0","id":"a","method":""},{"jsonrpc":"2.0","id":true,"method":"m"},5]', 10);
    expect(f).toMatchObject({
      kind: "batch",
      entries: [
        { invalid: { id: "a", error: { code: -32600 } } },
        { invalid: { id: null, error: { code: -32600 } } },
        { invalid: { id: null, error: { code: -32600 } } },
      ],
    });
  });
});

describe("errorFromSwitchboard", () => {
  it.each([
    ["INVALID_BODY", -32602],
    ["INVALID_PREFIX", -32602],
    ["BACKENDS_FILE_INVALID", -32000],
    ["BACKEND_NOT_FOUND", -32000],
    ["BACKEND_EXISTS", -32000],
    ["RATE_LIMITED", -32000],
    ["SHUTTING_DOWN", -32000],
    ["INTERNAL", -32603],
  ] as const)("%s → %i with the code in data", (code, rpc) => {
    const r = errorFromSwitchboard(1, new SwitchboardError(code, "m", { retryAfter: 2 }));
    expect(r).toEqual({ jsonrpc: "2.0", id: 1, error: { code: rpc, message: "m", data: { code, retryAfter: 2 } } });
  });
});

describe("TokenBucket", () => {
  it("allows a second's worth at once, then refills with time", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(4, () => clock.now());
    expect([1, 2, 3, 4, 5].map(() => bucket.take())).toEqual([true, true, true, true, false]);
    expect(bucket.retryAfterSeconds()).toBe(1);
    clock.advance(250);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    clock.advance(10_000);
    expect([1, 2, 3, 4, 5].map(() => bucket.take())).toEqual([true, true, true, true, false]);
  });

  it("never limits at rate 0", () => {
    const bucket = new TokenBucket(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(bucket.take()).toBe(true);
  });
});
