// The RPyC settings: defaults, forms accepted from flags/env/file, and the messages for bad values.

import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../../src/config.js";

const rpyc = (input: Record<string, unknown>) => resolveConfig(input).protocols.rpyc;

describe("rpyc settings", () => {
  it("defaults to port 18811, a 240 s prune timeout and listing on", () => {
    expect(rpyc({})).toEqual({
      rpycPort: 18811,
      rpycPrune: 240_000,
      rpycAllowList: true,
      rpycAllow: [],
      rpycPolicy: null,
    });
  });

  it("takes ports, off, durations and switches as flags and env give them (strings)", () => {
    expect(rpyc({ rpycPort: "0", rpycPrune: "30s", rpycAllowList: "off" })).toEqual({
      rpycPort: 0,
      rpycPrune: 30_000,
      rpycAllowList: false,
      rpycAllow: [],
      rpycPolicy: null,
    });
    expect(rpyc({ rpycPort: "off", rpycPrune: 90 })).toMatchObject({ rpycPort: null, rpycPrune: 90_000 });
  });

  it.each([
    [{ rpycPort: 70000 }, /rpyc-port: not a port/],
    [{ rpycPrune: "0" }, /rpyc-prune: not a duration between 1ms and 366 days/],
    [{ rpycPrune: "367d" }, /rpyc-prune: not a duration/],
    [{ rpycPrune: "9000h" }, /rpyc-prune: not a duration between 1ms and 366 days/],
    [{ rpycAllowList: "maybe" }, /rpyc-allow-list/],
  ])("refuses %j", (input, message) => {
    expect(() => resolveConfig(input)).toThrow(message);
  });
});
