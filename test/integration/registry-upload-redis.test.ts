// Upload statuses in the real Redis (127.0.0.1:6379): TTL, restart survival, and no task left "processing" after a stop or a SIGKILL.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { redisStatusStore } from "../../src/services/registry/upload-status.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { buildZip } from "../helpers/zip.js";

const REDIS_URL = "redis://127.0.0.1:6379";
let redis: Redis;
const children: ChildProcess[] = [];
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});
afterAll(async () => {
  await redis.quit();
});

/** A zip that takes a while to store (many small files), so later uploads are still queued. */
const slowZip = buildZip(
  Array.from({ length: 1500 }, (_, i) => ({ name: `docs/f${i}.txt`, data: `file ${i}`, method: 0 as const })),
);

async function upload(url: string, id: string) {
  const form = new FormData();
  form.append("spec", JSON.stringify({ registry_id: id }));
  form.append("zip", new Blob([new Uint8Array(slowZip)]), "z.zip");
  const res = await fetch(`${url}/registry/upload_zip`, { method: "POST", body: form });
  expect(res.status).toBe(202);
  return ((await res.json()) as { task_id: string }).task_id;
}

const statusOf = async (url: string, task: string) =>
  (await (await fetch(`${url}/registry/upload/status/${task}`)).json()) as Record<string, any>;

describe("the Redis status store", () => {
  it("keeps statuses with a TTL and fails only its own unfinished tasks", async () => {
    const prefix = `test:upload:${process.pid}:${Date.now()}:`;
    const mine = redisStatusStore(new Redis(REDIS_URL), 60_000, "owner-a", prefix);
    const theirs = redisStatusStore(new Redis(REDIS_URL), 60_000, "owner-b", prefix);
    try {
      await mine.put({ task_id: "t1", status: "processing" });
      await mine.put({ task_id: "t2", status: "done", registry_id: "r" });
      await mine.put({ task_id: "t3", status: "queued" });
      await theirs.put({ task_id: "t4", status: "processing" });
      expect(await redis.pttl(`${prefix}t1`)).toBeGreaterThan(50_000);
      expect((await mine.failInterrupted("restarted")).map((x) => x.task_id).sort()).toEqual(["t1", "t3"]);
      expect(await mine.get("t1")).toEqual({
        task_id: "t1",
        status: "failed",
        error: { code: "UPLOAD_INTERRUPTED", message: "restarted" },
      });
      expect((await mine.get("t3"))?.status).toBe("failed");
      expect(await mine.get("t2")).toEqual({ task_id: "t2", status: "done", registry_id: "r" });
      expect((await theirs.get("t4"))?.status).toBe("processing");
      expect(await mine.get("nope")).toBeNull();
    } finally {
      await redis.del(...["t1", "t2", "t3", "t4"].map((t) => prefix + t));
      await mine.close();
      await theirs.close();
    }
  });
});

describe("uploads with --redis-url", () => {
  it("runs the life cycle, and statuses outlive a graceful restart; waiting tasks end failed, not stuck", async () => {
    const dir = await makeTempDir();
    let srv: TestServer = await startTestServer({ dataDir: dir.path, config: { redisUrl: REDIS_URL } });
    try {
      const tasks = [await upload(srv.url, "r-0"), await upload(srv.url, "r-1"), await upload(srv.url, "r-2")];
      await srv.stop();
      srv = await startTestServer({ dataDir: dir.path, port: 0, config: { redisUrl: REDIS_URL } });
      const finals = await Promise.all(tasks.map((t) => statusOf(srv.url, t)));
      for (const [i, s] of finals.entries()) {
        expect(["done", "failed"], JSON.stringify(s)).toContain(s.status);
        const rec = await fetch(`${srv.url}/registry/query/by-id/r-${i}`);
        if (s.status === "done") expect(rec.status).toBe(200);
        else {
          expect(s.error.code).toBe("UPLOAD_INTERRUPTED");
          expect(rec.status).toBe(404);
        }
      }
      expect(finals[0]!.status).toBe("done");
    } finally {
      await srv.stop();
      await dir.cleanup();
    }
  });

  it("after a SIGKILL, the restarted server marks the unfinished uploads failed", async () => {
    const dir = await makeTempDir();
    const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/child-server.ts", dir.path], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, SWITCHBOARD_REDIS_URL: REDIS_URL },
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
      createInterface({ input: child.stdout! }).once("line", (line) =>
        resolve((JSON.parse(line) as { url: string }).url),
      );
    });
    const tasks: string[] = [];
    for (let i = 0; i < 4; i++) tasks.push(await upload(url, `k-${i}`));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const srv = await startTestServer({ dataDir: dir.path, config: { redisUrl: REDIS_URL } });
    try {
      const finals = await Promise.all(tasks.map((t) => statusOf(srv.url, t)));
      for (const s of finals) expect(["done", "failed"]).toContain(s.status);
      expect(finals.filter((s) => s.status === "failed").length).toBeGreaterThan(0);
      for (const [i, s] of finals.entries()) {
        if (s.status !== "failed") continue;
        expect(s.error.code).toBe("UPLOAD_INTERRUPTED");
        expect((await fetch(`${srv.url}/registry/query/by-id/k-${i}`)).status).toBe(404);
        expect(existsSync(join(dir.path, "objects", `k-${i}`))).toBe(false);
      }
      expect(readdirSync(join(dir.path, "upload-tmp"))).toEqual([]);
    } finally {
      await srv.stop();
      await dir.cleanup();
    }
  });
});
