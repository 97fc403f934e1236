// The brine codec: the captured registry bytes, round trips over random values, and a decoder that never throws.

import { describe, expect, it } from "vitest";
import { type Brine, decode, encode } from "../../../../src/protocols/rpyc/brine.js";
import { arbitraryBrine, hex, normalise, random } from "../../../helpers/brine-arbitrary.js";

const bytes = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("brine: the bytes captured between a stock client and rpyc's registry server", () => {
  const register = bytes(
    "12 08 0d 52 50 59 43 08 0e 08 52 45 47 49 53 54 45 52 11 10 08 0d 45 43 48 4f 16 05 33 39 32 38 31",
  );

  it("decodes the REGISTER request", () => {
    const r = decode(register);
    expect(r).toEqual({ ok: true, value: ["RPYC", "REGISTER", [["ECHO"], 39281]], end: register.length });
  });

  it("encodes the request and the replies byte for byte", () => {
    expect(hex(encode(["RPYC", "REGISTER", [["ECHO"], 39281]]))).toBe(hex(register));
    expect(hex(encode("OK"))).toBe("080b4f4b");
    expect(hex(encode([["127.0.0.1", 39281]]))).toBe(
      "101108 0e 09 3132372e302e302e31 16 05 3339323831".replace(/ /g, ""),
    );
    expect(hex(encode([]))).toBe("02");
  });
});

describe("brine: each form", () => {
  it.each<[string, Brine, string]>([
    ["None", null, "00"],
    ["True", true, "03"],
    ["False", false, "04"],
    ["empty bytes", new Uint8Array(0), "01"],
    ["empty text", "", "0801"],
    ["1-4 bytes", Buffer.from("abcd"), "0d61626364"],
    ["5 bytes", Buffer.from("abcde"), "0e056162636465"],
    ["smallest immediate int", -48, "20"],
    ["zero", 0, "50"],
    ["largest immediate int", 159, "ef"],
    ["int just past the immediates", 160, "1603313630"],
    ["negative int", -49, "16032d3439"],
    ["int beyond 2^53", 2n ** 64n, `1614${Buffer.from("18446744073709551616").toString("hex")}`],
    ["text is UTF-8 bytes under tag 08", "é", "080bc3a9"],
    ["1-tuple", [null], "1000"],
    ["5-tuple", [1, 2, 3, 4, 5], "140551525354 55".replace(/ /g, "")],
  ])("%s", (_, value, encoded) => {
    expect(hex(encode(value))).toBe(encoded);
    expect(decode(bytes(encoded))).toEqual({ ok: true, value: normalise(value), end: encoded.length / 2 });
  });

  it("uses 4-byte lengths past 255 bytes and items", () => {
    const long = Buffer.alloc(300, 0x61);
    expect(hex(encode(long).subarray(0, 5))).toBe("0f0000012c");
    const many = Array.from({ length: 256 }, () => null);
    expect(hex(encode(many).subarray(0, 5))).toBe("1500000100");
    expect(decode(encode(many))).toMatchObject({ ok: true, value: many });
  });

  it("accepts the long int forms for immediate values and a leading sign", () => {
    expect(decode(bytes("1602 3432"))).toMatchObject({ ok: true, value: 42 });
    expect(decode(bytes("17 00000002 3432"))).toMatchObject({ ok: true, value: 42 });
    expect(decode(bytes("1602 2b37"))).toMatchObject({ ok: true, value: 7 });
  });

  it("ignores what follows the first value, as brine.load does", () => {
    expect(decode(bytes("080b 6f6b ff ff"))).toEqual({ ok: true, value: "ok", end: 4 });
  });
});

describe("brine: round trips over random values (seeded)", () => {
  it("decode(encode(v)) is v, and encode(decode(b)) is b", () => {
    const rng = random(0x5eed);
    for (let i = 0; i < 500; i++) {
      const v = arbitraryBrine(rng, 4);
      const b = encode(v);
      const r = decode(b);
      if (!r.ok) throw new Error(`value #${i} did not decode: ${r.detail}`);
      expect(r.end).toBe(b.length);
      expect(r.value).toEqual(normalise(v));
      expect(hex(encode(r.value))).toBe(hex(b));
    }
  });

  it("every strict prefix of an encoding is truncated, not malformed", () => {
    const rng = random(7);
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const b = encode(arbitraryBrine(rng, 3));
      if (b.length > 400) continue; // every prefix is quadratic; long values add nothing new here
      checked++;
      for (let n = 0; n < b.length; n++) {
        const r = decode(b.subarray(0, n));
        if (r.ok || r.reason !== "truncated") throw new Error(`prefix ${n} of ${hex(b)}: ${JSON.stringify(r)}`);
      }
    }
    expect(checked).toBeGreaterThan(150);
  });
});

describe("brine: the decoder never throws", () => {
  it("on random bytes", () => {
    const rng = random(99);
    let malformed = 0;
    let ok = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.alloc(Math.floor(rng() * 64), 0).map(() => Math.floor(rng() * 256));
      const r = decode(b);
      if (r.ok) ok++;
      else if (r.reason === "malformed") malformed++;
    }
    // Both outcomes really happened: the loop exercised the success and the failure paths.
    expect(ok).toBeGreaterThan(1000);
    expect(malformed).toBeGreaterThan(1000);
  });

  it("on mutated valid encodings", () => {
    const rng = random(1234);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(encode(arbitraryBrine(rng, 3)));
      const at = Math.floor(rng() * b.length);
      b[at] = Math.floor(rng() * 256);
      expect(() => decode(b)).not.toThrow();
    }
  });

  it.each<[string, string, string]>([
    ["float", "18 0000000000000000", "malformed"],
    ["slice", "19 12 00 00 00", "malformed"],
    ["frozenset", "1a 02", "malformed"],
    ["complex", "1b", "malformed"],
    ["Ellipsis", "06", "malformed"],
    ["text holding an int", "08 50", "malformed"],
    ["text that is not UTF-8", "08 0a ff", "malformed"],
    ["int that is not digits", "16 02 3a30", "malformed"],
    ["empty int", "16 00", "malformed"],
    ["nothing", "", "truncated"],
    ["a tuple claiming 4 billion items", "15 ffffffff 00", "truncated"],
    ["bytes claiming 4 GB", "0f ffffffff", "truncated"],
  ])("%s", (_, input, reason) => {
    expect(decode(bytes(input))).toMatchObject({ ok: false, reason });
  });

  it("on nesting far deeper than any request (no stack overflow)", () => {
    expect(decode(Buffer.alloc(1_000_000, 0x10))).toMatchObject({ ok: false, reason: "malformed" });
  });
});
