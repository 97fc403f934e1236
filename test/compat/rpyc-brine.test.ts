// The brine codec against rpyc's own: identical bytes for random values, and rpyc loads what we encode.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type Brine, encode } from "../../src/protocols/rpyc/brine.js";
import { arbitraryBrine, hex, random } from "../helpers/brine-arbitrary.js";
import { PYTHON } from "./rpyc/driver.js";

const SCRIPT = fileURLToPath(new URL("./rpyc/brine-dump.py", import.meta.url));

type Tagged = null | boolean | { t: "int" | "bytes" | "str"; v: string } | { t: "tuple"; v: Tagged[] };

function tag(v: Brine): Tagged {
  if (v === null || typeof v === "boolean") return v;
  if (typeof v === "number" || typeof v === "bigint") return { t: "int", v: String(v) };
  if (typeof v === "string") return { t: "str", v };
  if (v instanceof Uint8Array) return { t: "bytes", v: hex(v) };
  return { t: "tuple", v: v.map(tag) };
}

describe("brine against rpyc.core.brine", () => {
  it("encodes 500 random values to exactly rpyc's bytes, and rpyc loads each back to an equal value", () => {
    const rng = random(2024);
    const values = Array.from({ length: 500 }, () => arbitraryBrine(rng, 3));
    const ours = values.map((v) => hex(encode(v)));
    const run = spawnSync(PYTHON, [SCRIPT], {
      input: JSON.stringify({ values: values.map(tag), ours }),
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.stderr).toBe("");
    const out = JSON.parse(run.stdout) as { dumps: string[]; loads_equal: boolean[] };
    expect(out.dumps).toHaveLength(values.length);
    for (const [i, h] of ours.entries()) expect(h, `value #${i}`).toBe(out.dumps[i]);
    expect(out.loads_equal.every(Boolean)).toBe(true);
  });
});
