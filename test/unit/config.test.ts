// Configuration layering (flags > env > file > defaults), validation, and the duration syntax.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONFIG_KEYS, envName, flagName, loadConfig, resolveConfig } from "../../src/config.js";
import { parseDuration } from "../../src/duration.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.cleanup();
  dir = undefined;
});

describe("loadConfig", () => {
  it("uses the defaults of DESIGN: 127.0.0.1:8080, ./data, strict, 30 s wait, 5 min max", () => {
    const c = loadConfig({}, {});
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 8080,
      dataDir: "./data",
      durability: "strict",
      defaultWait: 30_000,
      maxWait: 300_000,
      maxBodyBytes: 1024 * 1024,
      maxValueBytes: 64 * 1024,
      maxMetadataBytes: 16 * 1024,
      maxBatch: 1000,
      maxNames: 1000,
      maxQueue: 1000,
      eventRingSize: 100_000,
      sweepInterval: 1000,
    });
  });

  it("lets flags override env, and env override the config file", async () => {
    dir = await makeTempDir();
    const file = join(dir.path, "switchboard.json");
    writeFileSync(file, JSON.stringify({ port: 7000, dataDir: "/from/file", maxWait: "2m", logLevel: "warn" }));
    const env = { SWITCHBOARD_CONFIG: file, SWITCHBOARD_PORT: "7100", SWITCHBOARD_DATA_DIR: "/from/env" };
    const c = loadConfig({ port: "7200" }, env);
    expect(c.port).toBe(7200); // flag
    expect(c.dataDir).toBe("/from/env"); // env over file
    expect(c.maxWait).toBe(120_000); // file over default
    expect(c.logLevel).toBe("warn");
    expect(loadConfig({ config: file }, {}).port).toBe(7000); // --config names the file too
  });

  it("takes MONGO_URI when SWITCHBOARD_MONGO_URL is not set", () => {
    expect(loadConfig({}, { MONGO_URI: "mongodb://a" }).mongoUrl).toBe("mongodb://a");
    expect(loadConfig({}, { MONGO_URI: "mongodb://a", SWITCHBOARD_MONGO_URL: "mongodb://b" }).mongoUrl).toBe(
      "mongodb://b",
    );
  });

  it("refuses unknown settings and bad values with INVALID_CONFIG naming them", () => {
    expect(() => resolveConfig({ prot: 1 })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining("prot") }),
    );
    expect(() => resolveConfig({ port: 70000 })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining("port") }),
    );
    expect(() => resolveConfig({ durability: "sometimes" })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
    expect(() => resolveConfig({ maxWait: "soon" })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining("max-wait") }),
    );
  });

  it("refuses a config file that is missing or not a JSON object", async () => {
    const tmp = await makeTempDir();
    dir = tmp;
    const file = join(tmp.path, "bad.json");
    writeFileSync(file, "[1, 2]");
    expect(() => loadConfig({ config: file }, {})).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    expect(() => loadConfig({ config: join(tmp.path, "none.json") }, {})).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
  });

  it("documents every setting in docs/configuration.md with its flag and env variable", () => {
    const doc = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
    for (const key of CONFIG_KEYS) {
      const row = doc.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, `docs/configuration.md lacks ${key}`).toBeDefined();
      expect(row).toContain(`\`--${flagName(key)}\``);
      expect(row).toContain(`\`${envName(key)}\``);
    }
  });

  it("names each setting as a flag and an env variable", () => {
    expect(flagName("maxBodyBytes")).toBe("max-body-bytes");
    expect(envName("maxBodyBytes")).toBe("SWITCHBOARD_MAX_BODY_BYTES");
  });
});

describe("parseDuration", () => {
  it.each([
    [30, 30_000],
    ["30", 30_000],
    ["1.5", 1500],
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
  ] as const)("%s → %i ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([-1, "", "soon", "5x", "1m x", "ms", Number.NaN, null, {}])("refuses %s with INVALID_DURATION", (input) => {
    expect(() => parseDuration(input, "wait")).toThrow(expect.objectContaining({ code: "INVALID_DURATION" }));
  });
});
