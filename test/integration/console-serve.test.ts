// The console's HTTP side: /ui/ from memory with br/gzip, ETags and caching headers, the GET / redirect, --ui off, an unbuilt console.

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { type IncomingHttpHeaders, request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "../helpers/console-build.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let uiDir: string;
let srv: TestServer;
let script: string;

beforeAll(async () => {
  uiDir = await buildConsole();
  srv = await startTestServer({ config: { uiDir } });
  const html = await (await fetch(`${srv.url}/ui/`)).text();
  script = /src="\.\/(assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1] ?? "";
}, 30_000);

afterAll(async () => {
  await srv?.dispose();
  if (uiDir) await rm(dirname(uiDir), { recursive: true, force: true });
});

/** node:http, which (unlike fetch) hands over the body as sent, still compressed. */
function rawGet(path: string, headers: Record<string, string>) {
  return new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    request(`${srv.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}${path}`, { headers, redirect: "manual" });

describe("serving the console", () => {
  it("answers /ui/ with the page, a CSP, and revalidation rather than caching", async () => {
    const res = await get("/ui/", { "Accept-Encoding": "identity" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(res.headers.get("etag")).toMatch(/^"[\w-]{22}"$/);
    expect(await res.text()).toContain('<div id="app">');
    expect(script).toMatch(/^assets\/main-[A-Z0-9]{8}\.js$/);
  });

  it("serves fingerprinted assets as immutable, brotli or gzip as the client accepts", async () => {
    const identity = new Uint8Array(await readFile(join(uiDir, script)));
    const br = await get(`/ui/${script}`, { "Accept-Encoding": "gzip, deflate, br" });
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(br.headers.get("vary")).toBe("Accept-Encoding");
    expect(br.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    // fetch decodes what it asked for: the bytes are the built file's.
    expect(new Uint8Array(await br.arrayBuffer())).toEqual(identity);
    const compressed = Number(br.headers.get("content-length"));
    expect(compressed).toBeGreaterThan(0);
    expect(compressed).toBeLessThan(identity.length / 2);

    const noBr = await get(`/ui/${script}`, { "Accept-Encoding": "br;q=0, gzip" });
    expect(noBr.headers.get("content-encoding")).toBe("gzip");
    expect(new Uint8Array(await noBr.arrayBuffer())).toEqual(identity);

    const plain = await get(`/ui/${script}`, { "Accept-Encoding": "identity" });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(Number(plain.headers.get("content-length"))).toBe(identity.length);
    await plain.arrayBuffer();
  });

  it("sends the precompressed bytes the build wrote, undecoded", async () => {
    for (const [encoding, suffix, decode] of [
      ["br", ".br", brotliDecompressSync],
      ["gzip", ".gz", gunzipSync],
    ] as const) {
      const raw = await rawGet(`/ui/${script}`, { "Accept-Encoding": encoding });
      expect(raw.headers["content-encoding"]).toBe(encoding);
      const onDisk = await readFile(join(uiDir, `${script}${suffix}`));
      expect(raw.body.equals(onDisk)).toBe(true);
      expect(decode(raw.body).equals(await readFile(join(uiDir, script)))).toBe(true);
    }
  });

  it("answers 304 to a matching If-None-Match, and HEAD without a body", async () => {
    const first = await get(`/ui/${script}`);
    const etag = first.headers.get("etag")!;
    await first.arrayBuffer();
    const again = await get(`/ui/${script}`, { "If-None-Match": `W/${etag}` });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    const head = await fetch(`${srv.url}/ui/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("answers an unknown file with the coded 404", async () => {
    const res = await get("/ui/assets/nope-12345678.js");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ROUTE_NOT_FOUND");
  });

  it("sends a browser's GET / to /ui/, and /ui to /ui/; API clients keep the 404", async () => {
    const browser = await get("/", { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toBe("/ui/");
    const slash = await get("/ui?x=1");
    expect(slash.status).toBe(301);
    expect(slash.headers.get("location")).toBe("/ui/?x=1");
    const api = await get("/", { Accept: "application/json" });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("ROUTE_NOT_FOUND");
  });
});

describe("switched off or not built", () => {
  it("--ui off: no /ui/ and no redirect", async () => {
    const off = await startTestServer({ config: { ui: "off", uiDir } });
    try {
      const ui = await fetch(`${off.url}/ui/`);
      expect(ui.status).toBe(404);
      expect(((await ui.json()) as { error: { code: string } }).error.code).toBe("ROUTE_NOT_FOUND");
      const root = await fetch(`${off.url}/`, { headers: { Accept: "text/html" }, redirect: "manual" });
      expect(root.status).toBe(404);
      await root.arrayBuffer();
    } finally {
      await off.dispose();
    }
  });

  it("a console that was not built answers 503 CONSOLE_NOT_BUILT and the API still works", async () => {
    const empty = await mkdtemp(join(tmpdir(), "switchboard-noconsole-"));
    const bare = await startTestServer({ config: { uiDir: empty } });
    try {
      const ui = await fetch(`${bare.url}/ui/`);
      expect(ui.status).toBe(503);
      expect(((await ui.json()) as { error: { code: string } }).error.code).toBe("CONSOLE_NOT_BUILT");
      expect((await fetch(`${bare.url}/healthz`)).status).toBe(200);
    } finally {
      await bare.dispose();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
