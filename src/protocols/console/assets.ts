// The built console's files, read into memory once at start with their precompressed variants and ETags.

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";

/** One servable file: its bytes, the compressed variants the build wrote, and its caching policy. */
export interface Asset {
  readonly type: string;
  readonly etag: string;
  readonly identity: Uint8Array<ArrayBuffer>;
  readonly br?: Uint8Array<ArrayBuffer>;
  readonly gzip?: Uint8Array<ArrayBuffer>;
  /** Fingerprinted (its name changes with its content): cached for a year; else revalidated. */
  readonly immutable: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/** The folder the server serves by default: the console package's build output, beside src/ and dist/. */
export const DEFAULT_CONSOLE_DIR = new URL("../../../pkg/console/dist/", import.meta.url).pathname;

/**
 * Reads every file under `dir` (keys are `/`-separated paths relative to it, e.g. `assets/app-3F2A.js`).
 * Returns null when the folder or its index.html is missing: the console has not been built.
 */
export function loadConsoleAssets(dir: string): Map<string, Asset> | null {
  if (!existsSync(join(dir, "index.html"))) return null;
  const assets = new Map<string, Asset>();
  const files: string[] = [];
  // Bounded walk: the build output is a handful of files in at most a few folders.
  const stack = [dir];
  while (stack.length > 0 && files.length < 10_000) {
    const d = stack.pop()!;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile()) files.push(full);
    }
  }
  const present = new Set(files);
  for (const file of files) {
    if (file.endsWith(".br") || file.endsWith(".gz")) continue;
    const key = relative(dir, file).split(sep).join("/");
    const identity = new Uint8Array(readFileSync(file));
    const variant = (suffix: string) =>
      present.has(file + suffix) && statSync(file + suffix).size < identity.length
        ? new Uint8Array(readFileSync(file + suffix))
        : undefined;
    const br = variant(".br");
    const gzip = variant(".gz");
    assets.set(key, {
      type: TYPES[extname(file)] ?? "application/octet-stream",
      etag: `"${createHash("sha256").update(identity).digest("base64url").slice(0, 22)}"`,
      identity,
      ...(br ? { br } : {}),
      ...(gzip ? { gzip } : {}),
      immutable: key.startsWith("assets/"),
    });
  }
  return assets;
}

/** The best encoding the client accepts among the ones there are: br, then gzip, else identity. */
export function pickEncoding(acceptEncoding: string | undefined, asset: Asset): "br" | "gzip" | "identity" {
  if (!acceptEncoding) return "identity";
  const accepted = new Set<string>();
  for (const part of acceptEncoding.split(",")) {
    const [token = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    accepted.add(token.trim());
  }
  const any = accepted.has("*");
  if (asset.br && (accepted.has("br") || any)) return "br";
  if (asset.gzip && (accepted.has("gzip") || any)) return "gzip";
  return "identity";
}
