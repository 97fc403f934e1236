// Uploads into an S3 object store (s3rver, a local S3-compatible server): assets stored under s3://bucket/prefix, nothing left by a failed task.

import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";
import { buildZip } from "../helpers/zip.js";

let s3: S3rver;
let dir: TempDir;
let endpoint: string;
let srv: TestServer;
let client: S3Client;

beforeAll(async () => {
  // s3rver accepts these fixed credentials; the SDK reads them from the environment as it would in production.
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  dir = await makeTempDir();
  s3 = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir.path,
    configureBuckets: [{ name: "assets" }],
  });
  const addr = await s3.run();
  endpoint = `http://127.0.0.1:${addr.port}`;
  client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true });
  srv = await startTestServer({ config: { objectStore: "s3://assets/registry", objectStoreEndpoint: endpoint } });
});
afterAll(async () => {
  await srv?.dispose();
  client?.destroy();
  await s3?.close();
  await dir?.cleanup();
});

async function upload(spec: unknown, zip: Buffer) {
  const form = new FormData();
  form.append("spec", JSON.stringify(spec));
  form.append("zip", new Blob([new Uint8Array(zip)]), "z.zip");
  const res = await fetch(`${srv.url}/registry/upload_zip`, { method: "POST", body: form });
  expect(res.status).toBe(202);
  const { task_id } = (await res.json()) as { task_id: string };
  await srv.server.services.uploads.onIdle();
  return (await (await fetch(`${srv.url}/registry/upload/status/${task_id}`)).json()) as Record<string, any>;
}

const keys = async (prefix: string) =>
  ((await client.send(new ListObjectsV2Command({ Bucket: "assets", Prefix: prefix }))).Contents ?? []).map(
    (o) => o.Key,
  );

it("stores the assets in the bucket and points the record at them", async () => {
  const s = await upload(
    { registry_id: "demo-registry" },
    buildZip([
      { name: "docs/index.html", data: "<h1>demo</h1>" },
      { name: "sdk/client.py", data: "print(1)" },
    ]),
  );
  expect(s.status).toBe("done");
  const rec = ((await (await fetch(`${srv.url}/registry/query/by-id/demo-registry`)).json()) as any).registry;
  expect(rec.registry_documentation_s3_url).toBe(`s3://assets/registry/demo-registry/${s.task_id}/docs/`);
  expect(rec.registry_client_sdk_s3_url).toBe(`s3://assets/registry/demo-registry/${s.task_id}/sdk/`);
  expect((await keys("registry/demo-registry/")).sort()).toEqual([
    `registry/demo-registry/${s.task_id}/docs/index.html`,
    `registry/demo-registry/${s.task_id}/sdk/client.py`,
  ]);
  const again = await upload({ registry_id: "demo-registry" }, buildZip([{ name: "docs/v2.html", data: "v2" }]));
  expect(again.status).toBe("done");
  expect(await keys("registry/demo-registry/")).toEqual([`registry/demo-registry/${again.task_id}/docs/v2.html`]);
});

it("leaves no object behind when a task fails part-way", async () => {
  const s = await upload(
    { registry_id: "half" },
    buildZip([
      { name: "docs/a.txt", data: "stored first" },
      { name: "../evil.txt", data: "x" },
    ]),
  );
  expect(s.status).toBe("failed");
  expect(s.error.code).toBe("ZIP_UNSAFE_ENTRY");
  expect(await keys("registry/half/")).toEqual([]);
  expect((await fetch(`${srv.url}/registry/query/by-id/half`)).status).toBe(404);
});
