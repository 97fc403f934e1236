// ERROR_CODES and SwitchboardError: every code has a kind and a description; the error carries code, kind and JSON.

import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, isSwitchboardError, SwitchboardError } from "../../../src/core/errors.js";

const KINDS = [
  "invalid",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "too_large",
  "exhausted",
  "unavailable",
  "internal",
];

describe("ERROR_CODES", () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it("is not empty and uses upper-snake-case codes", () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it.each(codes)("%s has a known kind and a description", (code) => {
    const entry = ERROR_CODES[code];
    expect(KINDS).toContain(entry.kind);
    expect(entry.description.trim().length).toBeGreaterThan(10);
    expect(new SwitchboardError(code, "x").kind).toBe(entry.kind);
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
