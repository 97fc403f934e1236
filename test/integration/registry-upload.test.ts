// ZIP uploads over real HTTP: the seed's curl, the status life cycle, and every refusal (slip, symlink, bomb, sizes, specs) leaving nothing behind.

import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { buildZip, type ZipEntrySpec } from "../helpers/zip.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({
    config: { uploadMaxBytes: 3 * 1024 * 1024, uploadMaxUncompressedBytes: 1024 * 1024 },
  });
});
afterAll(async () => {
  await srv.dispose();
});

const SEED_SPEC = '{"registry_id":"demo-registry","registry_search_data":{"registry_id":"demo-registry"}}';

async function upload(spec: string | null, zip: Buffer | null, extra?: (f: FormData) => void) {
  const form = new FormData();
  if (spec !== null) form.append("spec", spec);
  if (zip !== null) form.append("zip", new Blob([new Uint8Array(zip)]), "assets_bundle.zip");
  extra?.(form);
  const res = await fetch(`${srv.url}/registry/upload_zip`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function status(taskId: string) {
  const res = await fetch(`${srv.url}/registry/upload/status/${taskId}`);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Uploads, waits for the queue to drain (no sleeping) and answers the final status. */
async function uploadAndWait(spec: string, entries: ZipEntrySpec[] | Buffer) {
  const r = await upload(spec, Buffer.isBuffer(entries) ? entries : buildZip(entries));
  expect(r.status).toBe(202);
  await srv.server.services.uploads.onIdle();
  return (await status(r.body.task_id as string)).body;
}

const objectsDir = () => join(srv.dataDir, "objects");
const storedFiles = (dir = objectsDir()): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => d.name)
    : [];
const record = async (id: string) => fetch(`${srv.url}/registry/query/by-id/${id}`);

describe("the seed's upload", () => {
  it("accepts spec + zip with 202 {task_id}, processes it, and fills the asset fields", async () => {
    const r = await upload(
      SEED_SPEC,
      buildZip([
        { name: "docs/" },
        { name: "docs/index.html", data: "<h1>demo</h1>" },
        { name: "sdk/client.py", data: "print('hi')\n" },
        { name: "README.md", data: "# demo" },
      ]),
    );
    expect(r.status).toBe(202);
    expect(Object.keys(r.body)).toEqual(["task_id"]);
    const taskId = r.body.task_id as string;
    const early = await status(taskId);
    expect(["queued", "processing", "done"]).toContain(early.body.status);
    await srv.server.services.uploads.onIdle();
    const done = await status(taskId);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ task_id: taskId, status: "done", registry_id: "demo-registry" });

    const rec = (await (await record("demo-registry")).json()).registry;
    expect(rec.registry_asset_id).toBe(taskId);
    expect(rec.registry_documentation_s3_url).toMatch(/^file:\/\/.*\/docs\/$/);
    expect(rec.registry_client_sdk_s3_url).toMatch(/^file:\/\/.*\/sdk\/$/);
    const docs = fileURLToPath(rec.registry_documentation_s3_url);
    expect(readFileSync(join(docs, "index.html"), "utf8")).toBe("<h1>demo</h1>");
    expect(readFileSync(join(fileURLToPath(rec.registry_client_sdk_s3_url), "client.py"), "utf8")).toBe(
      "print('hi')\n",
    );
  });

  it("a second upload for the same id updates the record and drops the earlier assets", async () => {
    const before = (await (await record("demo-registry")).json()).registry;
    const s = await uploadAndWait('{"registry_id":"demo-registry","registry_url":"https://demo.example.com"}', [
      { name: "sdk/v2.py", data: "v2" },
    ]);
    expect(s.status).toBe("done");
    const after = (await (await record("demo-registry")).json()).registry;
    expect(after.registry_url).toBe("https://demo.example.com");
    expect(after.registry_asset_id).toBe(s.task_id);
    expect(after.registry_documentation_s3_url).toBe(before.registry_documentation_s3_url);
    expect(existsSync(join(objectsDir(), "demo-registry", before.registry_asset_id))).toBe(false);
    expect(storedFiles(join(objectsDir(), "demo-registry"))).toEqual(["v2.py"]);
  });

  it("answers 404 UPLOAD_NOT_FOUND for an unknown task", async () => {
    for (const id of ["00000000-0000-0000-0000-000000000000", "nope"]) {
      const r = await status(id);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe("UPLOAD_NOT_FOUND");
    }
  });
});

describe("refused archives leave no record and no stored asset", () => {
  const cases: [string, ZipEntrySpec[] | (() => Buffer), string][] = [
    [
      "zip-slip ..",
      [
        { name: "docs/ok.txt", data: "ok" },
        { name: "../evil.txt", data: "x" },
      ],
      "ZIP_UNSAFE_ENTRY",
    ],
    ["nested ..", [{ name: "docs/../../evil.txt", data: "x" }], "ZIP_UNSAFE_ENTRY"],
    ["absolute path", [{ name: "/etc/evil", data: "x" }], "ZIP_UNSAFE_ENTRY"],
    ["drive letter", [{ name: "C:/evil.txt", data: "x" }], "ZIP_UNSAFE_ENTRY"],
    ["backslash climb", [{ name: "..\\evil.txt", data: "x" }], "ZIP_UNSAFE_ENTRY"],
    [
      "symlink",
      [
        { name: "docs/a.txt", data: "a" },
        { name: "docs/link", data: "/etc/passwd", mode: 0o120777 },
      ],
      "ZIP_UNSAFE_ENTRY",
    ],
    ["encrypted", [{ name: "secret.bin", data: "x", method: 0, encrypted: true }], "ZIP_UNSAFE_ENTRY"],
    ["ratio bomb", [{ name: "zeros.bin", data: Buffer.alloc(3 * 1024 * 1024) }], "ZIP_BOMB"],
    [
      "more bytes than allowed",
      [
        { name: "a.bin", data: randomBytes(600 * 1024) },
        { name: "b.bin", data: randomBytes(600 * 1024) },
      ],
      "ZIP_TOO_LARGE",
    ],
    [
      "more than 10,000 entries",
      () => buildZip(Array.from({ length: 10_001 }, (_, i) => ({ name: `f${i}`, method: 0 as const }))),
      "ZIP_TOO_LARGE",
    ],
    ["a header that lies about sizes", [{ name: "a.txt", data: "x".repeat(5000), declaredSize: 10 }], "ZIP_INVALID"],
    ["not a zip", () => Buffer.from("just text, not an archive"), "ZIP_INVALID"],
  ];

  for (const [label, entries, code] of cases) {
    it(`${label} → ${code}`, async () => {
      const id = `bad-${label.replace(/[^a-z0-9]+/gi, "-")}`;
      const zip = typeof entries === "function" ? entries() : buildZip(entries);
      const s = await uploadAndWait(JSON.stringify({ registry_id: id }), zip);
      expect(s.status).toBe("failed");
      expect(s.error.code).toBe(code);
      expect(s.registry_id).toBe(id);
      expect((await record(id)).status).toBe(404);
      expect(existsSync(join(objectsDir(), id))).toBe(false);
      expect(readdirSync(join(srv.dataDir, "upload-tmp"))).toEqual([]);
    });
  }
});

describe("bad requests are refused at once", () => {
  const zip = buildZip([{ name: "a.txt", data: "a" }]);

  it("refuses bad specs with INVALID_BODY naming the field, queueing nothing", async () => {
    const cases: [string, string][] = [
      ["{not json", "spec"],
      ['{"registry_url":"https://x"}', "registry_id"],
      [
        '{"registry_id":"x","registry_search_data":{"registry_search_tags":"AI"}}',
        "registry_search_data.registry_search_tags",
      ],
    ];
    for (const [spec, path] of cases) {
      const r = await upload(spec, zip);
      expect(r.status, spec).toBe(400);
      expect(r.body.error.code).toBe("INVALID_BODY");
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect(readdirSync(join(srv.dataDir, "upload-tmp"))).toEqual([]);
  });

  it("refuses forms without spec or zip, with extra parts, or that are not multipart", async () => {
    expect((await upload(null, zip)).body.error.details[0].path).toBe("spec");
    expect((await upload(SEED_SPEC, null)).body.error.details[0].path).toBe("zip");
    const extra = await upload(SEED_SPEC, zip, (f) => f.append("other", "x"));
    expect(extra.status).toBe(400);
    const two = await upload(SEED_SPEC, zip, (f) => f.append("zip", new Blob([new Uint8Array(zip)]), "b.zip"));
    expect(two.status).toBe(400);
    const json = await fetch(`${srv.url}/registry/upload_zip`, { method: "POST", body: SEED_SPEC });
    expect(json.status).toBe(400);
    const noBoundary = await fetch(`${srv.url}/registry/upload_zip`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data" },
      body: "x",
    });
    expect(noBoundary.status).toBe(400);
    const truncated = await fetch(`${srv.url}/registry/upload_zip`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=XX" },
      body: '--XX\r\nContent-Disposition: form-data; name="zip"; filename="a.zip"\r\n\r\nPK',
    });
    expect(truncated.status).toBe(400);
    expect(readdirSync(join(srv.dataDir, "upload-tmp"))).toEqual([]);
  });

  it("refuses a zip over --upload-max-bytes with 413 BODY_TOO_LARGE", async () => {
    const r = await upload(SEED_SPEC, randomBytes(4.5 * 1024 * 1024));
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe("BODY_TOO_LARGE");
    // Streamed without a Content-Length, the parser stops at the zip limit instead.
    const boundary = "BOUNDARY";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="spec"\r\n\r\n${SEED_SPEC}\r\n--${boundary}\r\nContent-Disposition: form-data; name="zip"; filename="z.zip"\r\n\r\n`;
    const chunks = [Buffer.from(head), randomBytes(3.5 * 1024 * 1024), Buffer.from(`\r\n--${boundary}--\r\n`)];
    const stream = new ReadableStream({
      pull(ctrl) {
        const c = chunks.shift();
        if (c) ctrl.enqueue(c);
        else ctrl.close();
      },
    });
    const res = await fetch(`${srv.url}/registry/upload_zip`, {
      method: "POST",
      headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(readdirSync(join(srv.dataDir, "upload-tmp"))).toEqual([]);
  });
});
