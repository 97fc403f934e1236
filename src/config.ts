// The validated configuration: flags > env SWITCHBOARD_* > config file (JSON) > defaults.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { SwitchboardError } from "./core/index.js";
import { parseDuration } from "./duration.js";

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch {
    ctx.addIssue({ code: "custom", message: `not a duration: ${JSON.stringify(v)}` });
    return z.NEVER;
  }
});
const int = (min: number) => z.coerce.number().int().min(min);
const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);

/** Every setting, its type and default. Keys map to flags (--kebab-case) and env (SWITCHBOARD_UPPER_SNAKE). */
export const configSchema = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: int(0).max(65535).default(8080),
  /** Directory of the embedded file store; ":memory:" keeps nothing. */
  dataDir: z.string().min(1).default("./data"),
  /** strict: acknowledge after fsync. relaxed: acknowledge after write(), fsync every 100 ms. */
  durability: z.enum(["strict", "relaxed"]).default("strict"),
  /** When set, registers are stored in MongoDB instead of the data dir. */
  mongoUrl: z.string().min(1).optional(),
  mongoDatabase: z.string().min(1).default("switchboard"),
  mongoWriteTimeout: duration.default(5000),
  /** Write concern a commit waits for: "majority" or a number of nodes. */
  mongoWriteConcern: z.union([z.literal("majority"), z.coerce.number().int().min(0)]).default("majority"),
  /** A full reconcile of the collections against the in-memory state at most this often (on activity). */
  mongoReconcileInterval: duration.default(15 * 60_000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  logPretty: bool.optional(),
  sweepInterval: duration.default(1000),
  eventRingSize: int(1).default(100_000),
  compactAfterBytes: int(1024).default(64 * 1024 * 1024),
  defaultWait: duration.default(30_000),
  maxWait: duration.default(300_000),
  maxBodyBytes: int(1).default(1024 * 1024),
  maxValueBytes: int(1).default(64 * 1024),
  maxMetadataBytes: int(1).default(16 * 1024),
  maxDepth: int(1).default(64),
  maxBatch: int(1).default(1000),
  maxNames: int(1).default(1000),
  maxQueue: int(1).default(1000),
  maxWaiters: int(1).default(200_000),
  shutdownTimeout: duration.default(10_000),
  /** Allow browsers on other origins (Access-Control-Allow-Origin); empty disables CORS. */
  corsOrigin: z.string().default("*"),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ConfigKey = keyof Config;

export const CONFIG_KEYS = Object.keys(configSchema.shape) as ConfigKey[];

export function envName(key: string): string {
  return `SWITCHBOARD_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Settings from the environment (including MONGO_URI, the name existing registry deployments use). */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const v = env[envName(key)];
    if (v !== undefined && v !== "") out[key] = v;
  }
  if (out.mongoUrl === undefined && env.MONGO_URI) out.mongoUrl = env.MONGO_URI;
  return out;
}

export function configFromFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SwitchboardError("INVALID_CONFIG", `cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new SwitchboardError("INVALID_CONFIG", `config file ${path} is not a JSON object: ${(err as Error).message}`);
  }
}

/** Merges the layers (later wins) and validates; throws a readable error naming each bad setting. */
export function resolveConfig(...layers: Record<string, unknown>[]): Config {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  const unknown = Object.keys(merged).filter((k) => !(CONFIG_KEYS as string[]).includes(k));
  if (unknown.length > 0) {
    throw new SwitchboardError("INVALID_CONFIG", `unknown setting(s): ${unknown.join(", ")}`, { details: { unknown } });
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${flagName(String(i.path[0] ?? ""))}: ${i.message}`);
    throw new SwitchboardError("INVALID_CONFIG", `invalid configuration: ${issues.join("; ")}`, { details: issues });
  }
  return result.data;
}

/** flags > env > file (named by --config or SWITCHBOARD_CONFIG) > defaults. */
export function loadConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Config {
  const { config: file, ...rest } = flags;
  const path = (file as string | undefined) ?? env.SWITCHBOARD_CONFIG;
  return resolveConfig(path ? configFromFile(path) : {}, configFromEnv(env), rest);
}
