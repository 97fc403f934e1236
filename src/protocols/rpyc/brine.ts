// rpyc's brine serialisation, the subset the registry protocol uses: None, bools, ints, bytes, text, tuples.

/**
 * A brine value: `null` is None, `string` is text (str), `Uint8Array` is bytes, an array is a
 * tuple. Ints are `number` when they are safe integers, `bigint` beyond that.
 */
export type Brine = null | boolean | number | bigint | string | Uint8Array | readonly Brine[];

export type DecodeResult =
  | {
      readonly ok: true;
      readonly value: Brine /** Bytes the value took; brine ignores what follows. */;
      readonly end: number;
    }
  | {
      readonly ok: false;
      /** truncated: a prefix of a valid value (more bytes could complete it); malformed: never valid. */
      readonly reason: "truncated" | "malformed";
      readonly detail: string;
    };

const TAG = {
  NONE: 0x00,
  EMPTY_BYTES: 0x01,
  EMPTY_TUPLE: 0x02,
  TRUE: 0x03,
  FALSE: 0x04,
  TEXT: 0x08,
  BYTES1: 0x0a, // 0x0a..0x0d: 1..4 bytes follow
  BYTES_L1: 0x0e,
  BYTES_L4: 0x0f,
  TUP1: 0x10, // 0x10..0x13: 1..4 items follow
  TUP_L1: 0x14,
  TUP_L4: 0x15,
  INT_L1: 0x16,
  INT_L4: 0x17,
} as const;

/** Immediate ints: tags 0x20..0xef hold -48..159 (value = tag - 0x50). */
const IMM_MIN = -0x30;
const IMM_MAX = 0x9f;
const IMM_OFFSET = 0x50;

/** Registry messages nest three deep; anything far deeper is hostile, and the cap bounds the recursion. */
const MAX_DEPTH = 32;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const INT_TEXT = /^[+-]?[0-9]+$/;

class Failure {
  constructor(
    readonly reason: "truncated" | "malformed",
    readonly detail: string,
  ) {}
}

/** Decodes the first value of `data`. Never throws: a bad or incomplete input is a result, not an exception. */
export function decode(data: Uint8Array): DecodeResult {
  let pos = 0;
  const need = (n: number, what: string) => {
    if (data.length - pos < n) throw new Failure("truncated", `${what}: need ${n} bytes at ${pos}`);
  };
  const u32 = () => {
    need(4, "length");
    const v = ((data[pos]! << 24) >>> 0) + (data[pos + 1]! << 16) + (data[pos + 2]! << 8) + data[pos + 3]!;
    pos += 4;
    return v;
  };
  const u8 = () => {
    need(1, "length");
    return data[pos++]!;
  };
  const take = (n: number, what: string) => {
    need(n, what);
    // A copy, as a plain Uint8Array: a decoded value never pins the datagram it came from.
    const out = new Uint8Array(data.subarray(pos, pos + n));
    pos += n;
    return out;
  };
  const int = (digits: Uint8Array): number | bigint => {
    // ASCII only: TextDecoder would accept non-ASCII digits' UTF-8 and the regex rejects them anyway.
    let text = "";
    for (const b of digits) text += String.fromCharCode(b);
    if (!INT_TEXT.test(text)) throw new Failure("malformed", `int: not decimal digits at ${pos - digits.length}`);
    const big = BigInt(text);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  };
  const value = (depth: number): Brine => {
    if (depth > MAX_DEPTH) throw new Failure("malformed", `nested deeper than ${MAX_DEPTH}`);
    need(1, "tag");
    const tag = data[pos++]!;
    if (tag >= IMM_MIN + IMM_OFFSET && tag <= IMM_MAX + IMM_OFFSET) return tag - IMM_OFFSET;
    switch (tag) {
      case TAG.NONE:
        return null;
      case TAG.EMPTY_BYTES:
        return new Uint8Array(0);
      case TAG.EMPTY_TUPLE:
        return [];
      case TAG.TRUE:
        return true;
      case TAG.FALSE:
        return false;
      case TAG.BYTES1:
      case TAG.BYTES1 + 1:
      case TAG.BYTES1 + 2:
      case TAG.BYTES1 + 3:
        return take(tag - TAG.BYTES1 + 1, "bytes");
      case TAG.BYTES_L1:
        return take(u8(), "bytes");
      case TAG.BYTES_L4:
        return take(u32(), "bytes");
      case TAG.TEXT: {
        const at = pos;
        const inner = value(depth + 1);
        if (!(inner instanceof Uint8Array)) throw new Failure("malformed", `text at ${at} does not hold bytes`);
        try {
          return utf8.decode(inner);
        } catch {
          throw new Failure("malformed", `text at ${at} is not UTF-8`);
        }
      }
      case TAG.TUP1:
      case TAG.TUP1 + 1:
      case TAG.TUP1 + 2:
      case TAG.TUP1 + 3:
        return items(tag - TAG.TUP1 + 1, depth);
      case TAG.TUP_L1:
        return items(u8(), depth);
      case TAG.TUP_L4:
        return items(u32(), depth);
      case TAG.INT_L1:
        return int(take(u8(), "int"));
      case TAG.INT_L4:
        return int(take(u32(), "int"));
      default:
        throw new Failure("malformed", `unsupported tag 0x${tag.toString(16).padStart(2, "0")} at ${pos - 1}`);
    }
  };
  const items = (count: number, depth: number): Brine[] => {
    // Every item takes at least one byte: a count beyond the bytes left cannot be met yet, and is
    // refused before anything is allocated for it.
    need(count, "tuple items");
    const out: Brine[] = [];
    for (let i = 0; i < count; i++) out.push(value(depth + 1));
    return out;
  };
  try {
    const v = value(0);
    return { ok: true, value: v, end: pos };
  } catch (err) {
    if (err instanceof Failure) return { ok: false, reason: err.reason, detail: err.detail };
    return { ok: false, reason: "malformed", detail: String(err) };
  }
}

/** Encodes a value exactly as rpyc's brine.dump does. Throws TypeError on a non-integer number. */
export function encode(v: Brine): Buffer {
  const out: Buffer[] = [];
  write(v, out);
  return Buffer.concat(out);
}

function write(v: Brine, out: Buffer[]): void {
  if (v === null) out.push(Buffer.of(TAG.NONE));
  else if (v === true) out.push(Buffer.of(TAG.TRUE));
  else if (v === false) out.push(Buffer.of(TAG.FALSE));
  else if (typeof v === "number" || typeof v === "bigint") writeInt(v, out);
  else if (typeof v === "string") {
    out.push(Buffer.of(TAG.TEXT));
    writeBytes(Buffer.from(v, "utf8"), out);
  } else if (v instanceof Uint8Array) writeBytes(v, out);
  else {
    out.push(header(v.length, TAG.EMPTY_TUPLE, TAG.TUP1, TAG.TUP_L1, TAG.TUP_L4));
    for (const item of v) write(item, out);
  }
}

function writeInt(v: number | bigint, out: Buffer[]): void {
  if (typeof v === "number" && !Number.isInteger(v)) throw new TypeError(`brine: ${v} is not an integer`);
  if (v >= IMM_MIN && v <= IMM_MAX) {
    out.push(Buffer.of(Number(v) + IMM_OFFSET));
    return;
  }
  const digits = Buffer.from(BigInt(v).toString(), "ascii");
  if (digits.length < 256) out.push(Buffer.of(TAG.INT_L1, digits.length));
  else out.push(Buffer.of(TAG.INT_L4), u32be(digits.length));
  out.push(digits);
}

function writeBytes(b: Uint8Array, out: Buffer[]): void {
  out.push(header(b.length, TAG.EMPTY_BYTES, TAG.BYTES1, TAG.BYTES_L1, TAG.BYTES_L4));
  out.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** The tag (and length) brine writes before n bytes or n tuple items: short forms up to 4, then 1- or 4-byte lengths. */
function header(n: number, empty: number, short1: number, long1: number, long4: number): Buffer {
  if (n === 0) return Buffer.of(empty);
  if (n <= 4) return Buffer.of(short1 + n - 1);
  if (n < 256) return Buffer.of(long1, n);
  return Buffer.concat([Buffer.of(long4), u32be(n)]);
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
