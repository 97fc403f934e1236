// The watched TOML backends file: loaded at start, edits applied without a call, a broken file kept out, priorities.

import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.js";
import type { Switchboard } from "../../src/core/index.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { TEST_PROTOCOL_DEFAULTS } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

interface Started {
  readonly server: RunningServer;
  readonly client: WsClient;
  /** Resolves with the first log record (already written or to come) whose msg matches. */
  logged(msg: string): Promise<Record<string, unknown>>;
}

let dir: string;
let file: string;
const running: Started[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-backends-"));
  file = join(dir, "backends.toml");
});
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.client.close();
    await s.server.close();
  }
  await rm(dir, { recursive: true, force: true });
});

async function start(options: { backendsFile?: string; dataDir?: string } = {}): Promise<Started> {
  const records: Record<string, unknown>[] = [];
  const waiting = new Set<{ msg: string; resolve: (r: Record<string, unknown>) => void }>();
  const logger = pino(
    { level: "info" },
    {
      write(line: string) {
        const r = JSON.parse(line) as Record<string, unknown>;
        records.push(r);
        for (const w of [...waiting]) {
          if (r.msg === w.msg) {
            waiting.delete(w);
            w.resolve(r);
          }
        }
      },
    },
  );
  const config = resolveConfig({
    host: "127.0.0.1",
    port: 0,
    dataDir: options.dataDir ?? ":memory:",
    ...TEST_PROTOCOL_DEFAULTS,
    backendsFile: options.backendsFile ?? file,
  });
  const server = await startServer(config, { logger });
  const port = server.listeners.find((l) => l.protocol === "jsonrpc")!.port;
  const client = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  const started: Started = {
    server,
    client,
    logged: (msg) => {
      const seen = records.find((r) => r.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log "${msg}" within 5 s`)), 5000);
        waiting.add({
          msg,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
  };
  running.push(started);
  return started;
}

/** Awaits backend register changes until the condition holds (checked first, then after each change). */
async function until(core: Switchboard, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const changes = core.watch({ prefixes: ["backends/"], signal: ac.signal });
  try {
    if (cond()) return;
    for await (const _ of changes) if (cond()) return;
    throw new Error("condition not met before the timeout");
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

function toml(...entries: { name: string; host: string; port: number; [k: string]: unknown }[]): string {
  return entries
    .map((e) =>
      [
        "[[backend]]",
        ...Object.entries(e).map(([k, v]) => `${k} = ${typeof v === "string" ? JSON.stringify(v) : String(v)}`),
      ].join("\n"),
    )
    .join("\n\n");
}

function backend(core: Switchboard, name: string): any {
  return core.get(`backends/${name}`)?.value ?? null;
}

describe("the backends file", () => {
  it("is loaded at start and every edit on disk applies without a call: add, update, remove", async () => {
    await writeFile(
      file,
      toml(
        { name: "plexus", host: "127.0.0.1", port: 4444, protocol: "ws", description: "Local Plexus instance" },
        { name: "prod", host: "plexus.example.com", port: 4444, protocol: "wss" },
      ),
    );
    const { server, client } = await start();
    const core = server.core;
    const listed = await client.call("registry.list", {});
    expect(listed.backends.map((b: any) => [b.name, b.source, b.protocol]).sort()).toEqual([
      ["plexus", "file", "ws"],
      ["prod", "file", "wss"],
    ]);
    const prodId = backend(core, "prod").id;

    await writeFile(
      file,
      toml(
        { name: "plexus", host: "127.0.0.1", port: 4444 },
        { name: "prod", host: "plexus2.example.com", port: 4444, protocol: "wss" },
        { name: "staging", host: "10.0.0.9", port: 4444 },
      ),
    );
    await until(core, () => backend(core, "staging") !== null && backend(core, "prod")?.host === "plexus2.example.com");
    expect(backend(core, "prod").id).toBe(prodId);
    // The file states every field: the removed description is gone.
    expect(backend(core, "plexus")).not.toHaveProperty("description");

    // A save by rename, as editors do.
    await writeFile(`${file}.tmp`, toml({ name: "staging", host: "10.0.0.9", port: 4444 }));
    await rename(`${file}.tmp`, file);
    await until(core, () => backend(core, "plexus") === null && backend(core, "prod") === null);
    expect((await client.call("registry.list", {})).backends.map((b: any) => b.name)).toEqual(["staging"]);
  });

  it("keeps runtime registrations over file entries of the same name", async () => {
    await writeFile(file, toml({ name: "from-file", host: "f", port: 1 }));
    const { server, client } = await start();
    const core = server.core;
    await client.call("registry.register", { name: "mine", host: "runtime", port: 2 });
    // An update at runtime takes a file backend over: the file no longer manages it.
    await client.call("registry.update", { name: "from-file", host: "changed" });
    expect(backend(core, "from-file")).toMatchObject({ host: "changed", source: "manual" });

    await writeFile(file, toml({ name: "mine", host: "file", port: 3 }, { name: "marker", host: "m", port: 4 }));
    await until(core, () => backend(core, "marker") !== null);
    expect(backend(core, "mine")).toMatchObject({ host: "runtime", port: 2, source: "manual" });
    expect(backend(core, "from-file")).toMatchObject({ host: "changed", source: "manual" });
    expect(await client.call("registry.reload", {})).toEqual({ type: "reloaded", count: 1 });
  });

  it("keeps the last good backends when the file breaks, answers reload with the error, and applies the repair", async () => {
    await writeFile(file, toml({ name: "good", host: "g", port: 1 }));
    const { server, client, logged } = await start();
    const core = server.core;
    const revision = core.revision;

    await writeFile(file, "[[backend]]\nname = 'half\nhost = ");
    const record = await logged("backends file not applied; keeping the last good backends");
    expect(JSON.stringify(record.err)).toMatch(/BACKENDS_FILE_INVALID|Invalid TOML/);
    expect(core.revision).toBe(revision);
    const r = await client.request("registry.reload", {});
    expect(r.error).toMatchObject({ code: -32000, data: { code: "BACKENDS_FILE_INVALID" } });
    expect(r.error.message).toContain(file);
    const hub = await client.hubCall("registry-hub", "registry.reload", {});
    expect(hub.items[0]).toMatchObject({ type: "error", code: "BACKENDS_FILE_INVALID", recoverable: false });

    // Valid TOML of the wrong shape is refused the same way, naming the field.
    await writeFile(file, toml({ name: "good", host: "g", port: "4444" as unknown as number }));
    const shape = await client.request("registry.reload", {});
    expect(shape.error.message).toMatch(/backend\.0\.port/);
    await writeFile(
      file,
      `${toml({ name: "dup", host: "a", port: 1 })}\n\n${toml({ name: "dup", host: "b", port: 2 })}`,
    );
    expect((await client.request("registry.reload", {})).error.message).toMatch(/dup is listed twice/);
    expect(backend(core, "good")).toMatchObject({ host: "g", port: 1 });

    await writeFile(file, toml({ name: "good", host: "g2", port: 1 }, { name: "new", host: "n", port: 2 }));
    await until(core, () => backend(core, "new") !== null && backend(core, "good")?.host === "g2");
  });

  it("lets persisted backends win over the file after a restart", async () => {
    const dataDir = join(dir, "data");
    const first = await start({ dataDir });
    await first.client.call("registry.register", { name: "keep", host: "persisted", port: 1 });
    await first.client.close();
    await first.server.close();
    running.splice(running.indexOf(first), 1);

    await writeFile(file, toml({ name: "keep", host: "file", port: 9 }, { name: "extra", host: "x", port: 2 }));
    const second = await start({ dataDir });
    expect(backend(second.server.core, "keep")).toMatchObject({ host: "persisted", source: "manual" });
    expect(backend(second.server.core, "extra")).toMatchObject({ host: "x", source: "file" });
  });

  it("picks the file up once its directory appears", async () => {
    const later = join(dir, "not-yet", "backends.toml");
    const { server, client } = await start({ backendsFile: later });
    expect(await client.call("registry.reload", {})).toEqual({ type: "reloaded", count: 0 });
    await mkdir(join(dir, "not-yet"));
    await writeFile(later, toml({ name: "late", host: "l", port: 1 }));
    await until(server.core, () => backend(server.core, "late") !== null);
  });
});
