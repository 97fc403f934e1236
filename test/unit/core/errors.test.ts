// ERROR_CODES and SwitchboardError: every code has a kind and a description; the error carries code, kind and JSON.

import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, isSwitchboardError, SwitchboardError } from "../../../src/core/errors.js";
import { statusOf } from "../../../src/protocols/http/errors.js";

describe("ERROR_CODES", () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it("is not empty and uses upper-snake-case codes", () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it.each(codes)("%s has a description and a kind the HTTP edge maps to a client or server status", (code) => {
    const entry = ERROR_CODES[code];
    expect(entry.description.trim().length).toBeGreaterThan(10);
    const err = new SwitchboardError(code, "x");
    expect(err.kind).toBe(entry.kind);
    const status = statusOf(err);
    // Only failures inside the server (kind internal) may answer 500: every other code is the caller's or the moment's.
    if (entry.kind === "internal") expect(status).toBe(500);
    else expect([400, 401, 403, 404, 408, 409, 413, 429, 431, 503]).toContain(status);
  });
});

describe("SwitchboardError", () => {
  it("carries its code, details, retryAfter and cause", () => {
    const cause = new Error("low level");
    const err = new SwitchboardError("QUEUE_FULL", "full", { details: { name: "a" }, retryAfter: 3, cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("SwitchboardError");
    expect(err.code).toBe("QUEUE_FULL");
    expect(err.kind).toBe("exhausted");
    expect(err.retryAfter).toBe(3);
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({ code: "QUEUE_FULL", message: "full", details: { name: "a" } });
    expect(isSwitchboardError(err)).toBe(true);
  });

  it("leaves details out of its JSON when there are none", () => {
    const err = new SwitchboardError("INVALID_NAME", "bad");
    expect(err.toJSON()).toEqual({ code: "INVALID_NAME", message: "bad" });
    expect("details" in err.toJSON()).toBe(false);
    expect(err.retryAfter).toBeUndefined();
    expect(err.cause).toBeUndefined();
    expect(isSwitchboardError(new Error("bad"))).toBe(false);
  });
});
