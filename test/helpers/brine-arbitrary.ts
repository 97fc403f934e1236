// Seeded random brine values for the codec's property tests (and the Python cross-check).

import type { Brine } from "../../src/protocols/rpyc/brine.js";

/** mulberry32: a small deterministic PRNG, so a failing case can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** A value of any supported kind, sizes chosen to cross every length boundary of the format. */
export function arbitraryBrine(rng: () => number, depth: number): Brine {
  const kinds = depth > 0 ? 8 : 7;
  switch (Math.floor(rng() * kinds)) {
    case 0:
      return pick(rng, [null, true, false]);
    case 1:
      return Math.floor(rng() * 260) - 60; // around the immediate range -48..159
    case 2:
      return Math.floor((rng() - 0.5) * 2 ** 53);
    case 3: {
      const big = BigInt(Math.floor(rng() * 2 ** 52)) ** BigInt(1 + Math.floor(rng() * 6));
      return rng() < 0.5 ? -big : big;
    }
    case 4: {
      const n = pick(rng, [0, 1, 2, 3, 4, 5, 255, 256, 300]);
      return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
    }
    case 5: {
      const n = pick(rng, [0, 1, 3, 4, 5, 40, 256]);
      return Array.from({ length: n }, () => pick(rng, ["a", "é", "名", "😀", "RPYC", "0"])).join("");
    }
    case 6:
      return pick(rng, ["RPYC", "REGISTER", "QUERY", "127.0.0.1", ""]);
    default: {
      const n = pick(rng, [0, 1, 2, 3, 4, 5, 7, 255, 256]);
      return Array.from({ length: n }, () => arbitraryBrine(rng, n > 8 ? 0 : depth - 1));
    }
  }
}

/** What decode() gives back for a value: safe bigints come back as numbers, bytes as Uint8Array. */
export function normalise(v: Brine): Brine {
  if (typeof v === "bigint")
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
