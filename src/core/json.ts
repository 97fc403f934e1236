// JSON helpers for the core: structural equality and UTF-8 size without a Buffer.

import type { Json } from "./types.js";

/** Structural equality of two JSON values (object key order does not matter). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  }
  return true;
}

/** Bytes of the UTF-8 encoding of a string, counted without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Serialised size of a JSON value in bytes. */
export function jsonSize(v: Json): number {
  return utf8Length(JSON.stringify(v));
}

/**
 * What is wrong with a parsed JSON value, if anything: nesting deeper than `maxDepth` levels, or a
 * number JSON cannot carry (1e400 parses to Infinity, which would be stored and served as null).
 * Checked without recursion, so a hostile value cannot overflow the stack.
 */
export function inspectJson(v: Json, maxDepth: number): "too_deep" | "not_finite" | null {
  const stack: [Json, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === "number") {
      if (!Number.isFinite(node)) return "not_finite";
      continue;
    }
    if (node === null || typeof node !== "object") continue;
    if (depth > maxDepth) return "too_deep";
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const c of children)
      if (c !== null && (typeof c === "object" || typeof c === "number")) stack.push([c, depth + 1]);
  }
  return null;
}
