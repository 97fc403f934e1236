// Keeps docs/errors.md in sync with the error codes in src/core/errors.ts and their HTTP statuses.

import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, SwitchboardError } from "../../../src/core/index.js";
import { statusOf } from "../../../src/protocols/http/errors.js";

const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
const rows = new Map<string, { status: number; kind: string }>();
for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| ([a-z_]+) \|/gm)) {
  rows.set(m[1]!, { status: Number(m[2]), kind: m[3]! });
}

it("documents every error code with its HTTP status and kind", () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  expect(codes.length).toBeGreaterThan(10);
  for (const code of codes) {
    expect(rows.get(code), `docs/errors.md lacks ${code}`).toEqual({
      status: statusOf(new SwitchboardError(code, "x")),
      kind: ERROR_CODES[code].kind,
    });
  }
});

it("documents no code that does not exist", () => {
  for (const code of rows.keys()) expect(Object.keys(ERROR_CODES)).toContain(code);
});
