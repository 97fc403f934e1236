// The console's asset table: which files load, which compressed copies are kept, and Accept-Encoding negotiation.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { type Asset, loadConsoleAssets, pickEncoding } from "../../../src/protocols/console/assets.js";
import { makeTempDir, type TempDir } from "../../helpers/temp-dir.js";

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.cleanup();
});

describe("loadConsoleAssets", () => {
  it("is null without an index.html (not built)", async () => {
    dir = await makeTempDir("switchboard-assets-");
    expect(loadConsoleAssets(dir.path)).toBeNull();
    expect(loadConsoleAssets(join(dir.path, "missing"))).toBeNull();
  });

  it("loads every file by its relative path, keeps only compressed copies that are smaller", async () => {
    dir = await makeTempDir("switchboard-assets-");
    const big = "console.log('hello');\n".repeat(200);
    await mkdir(join(dir.path, "assets"));
    await writeFile(join(dir.path, "index.html"), "<!doctype html>");
    await writeFile(join(dir.path, "index.html.br"), Buffer.alloc(500)); // larger than the file: ignored
    await writeFile(join(dir.path, "assets", "main-ABCDEFGH.js"), big);
    await writeFile(join(dir.path, "assets", "main-ABCDEFGH.js.br"), brotliCompressSync(big));
    await writeFile(join(dir.path, "assets", "main-ABCDEFGH.js.gz"), gzipSync(big));
    const assets = loadConsoleAssets(dir.path)!;
    expect([...assets.keys()].sort()).toEqual(["assets/main-ABCDEFGH.js", "index.html"]);
    const html = assets.get("index.html")!;
    expect(html).toMatchObject({ type: "text/html; charset=utf-8", immutable: false });
    expect(html.br).toBeUndefined();
    const js = assets.get("assets/main-ABCDEFGH.js")!;
    expect(js.immutable).toBe(true);
    expect(js.br!.length).toBeLessThan(js.identity.length);
    expect(js.gzip!.length).toBeLessThan(js.identity.length);
    expect(js.etag).not.toBe(html.etag);
  });
});

describe("pickEncoding", () => {
  const both: Asset = {
    type: "text/javascript",
    etag: '"x"',
    identity: new Uint8Array(10),
    br: new Uint8Array(2),
    gzip: new Uint8Array(3),
    immutable: true,
  };
  const gzipOnly: Asset = {
    type: both.type,
    etag: both.etag,
    identity: both.identity,
    gzip: both.gzip!,
    immutable: true,
  };

  it.each([
    [undefined, "identity"],
    ["", "identity"],
    ["gzip, deflate, br", "br"],
    ["GZIP, BR;q=0.5", "br"],
    ["br;q=0, gzip", "gzip"],
    ["br;q=0.0, gzip;q=0", "identity"],
    ["*", "br"],
    ["deflate", "identity"],
  ] as const)("%s → %s", (header, want) => {
    expect(pickEncoding(header, both)).toBe(want);
  });

  it("offers only what exists", () => {
    expect(pickEncoding("br, gzip", gzipOnly)).toBe("gzip");
  });
});
