// Builds zip archives for upload tests byte by byte, so tests can make what no honest tool would (../ names, symlinks, lying sizes).

import { crc32, deflateRawSync } from "node:zlib";

export interface ZipEntrySpec {
  readonly name: string;
  readonly data?: Buffer | string;
  /** Unix mode in the high 16 bits of the external attributes (0o120777 = symlink). */
  readonly mode?: number;
  /** Stored (0) or deflated (8, the default). */
  readonly method?: 0 | 8;
  /** Overrides the uncompressed size written in the headers. */
  readonly declaredSize?: number;
  /** Sets the "encrypted" flag (the data is not actually encrypted). */
  readonly encrypted?: boolean;
}

export function buildZip(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const raw = typeof e.data === "string" ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const method = e.method ?? 8;
    const packed = method === 8 ? deflateRawSync(raw) : raw;
    // An encrypted entry starts with a 12-byte encryption header (the rest is left as it is).
    const body = e.encrypted ? Buffer.concat([Buffer.alloc(12), packed]) : packed;
    const crc = crc32(raw);
    const size = e.declaredSize ?? raw.length;
    const flags = 0x0800 | (e.encrypted ? 1 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((e.mode ?? (e.name.endsWith("/") ? 0o40755 : 0o100644)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
