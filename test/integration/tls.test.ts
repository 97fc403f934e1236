// --tls-cert/--tls-key: the HTTP port serves HTTPS itself (a self-signed certificate made with openssl for the test).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let dir: string;
let ca: Buffer;

function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.url}${path}`, { method, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchboard-tls-"));
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    join(dir, "key.pem"),
    "-out",
    join(dir, "cert.pem"),
  ]);
  ca = readFileSync(join(dir, "cert.pem"));
  srv = await startTestServer({ config: { tlsCert: join(dir, "cert.pem"), tlsKey: join(dir, "key.pem") } });
});
afterAll(async () => {
  await srv?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

it("serves https:// with the given certificate: a PUT then a GET", async () => {
  expect(srv.url).toMatch(/^https:\/\//);
  const put = await call("PUT", "/provider", { name: "tls/a", value: 1 });
  expect(put.status).toBe(200);
  const got = await call("GET", "/consumer?name=tls/a");
  expect(got.json.registers[0].value).toBe(1);
});

it("holds a long-poll over TLS and wakes it on a change", async () => {
  const first = await call("GET", "/consumer?name=tls/b");
  const held = call("GET", `/consumer?name=tls/b&index=${first.json.index}&wait=30s`);
  await expect.poll(() => srv.server.core.stats().waiters.consumer).toBeGreaterThan(0);
  await call("PUT", "/provider", { name: "tls/b", value: "woke" });
  const answer = await held;
  expect(answer.status).toBe(200);
  expect(answer.json.registers[0].value).toBe("woke");
});

it("refuses plain HTTP on the TLS port and a client that does not trust the certificate", async () => {
  await expect(fetch(srv.url.replace("https://", "http://"))).rejects.toThrow();
  await expect(fetch(`${srv.url}/healthz`)).rejects.toThrow();
});

it("needs both --tls-cert and --tls-key", async () => {
  await expect(startTestServer({ config: { tlsCert: join(dir, "cert.pem") } })).rejects.toMatchObject({
    code: "INVALID_CONFIG",
  });
});
