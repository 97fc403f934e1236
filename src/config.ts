// The validated configuration: flags > env SWITCHBOARD_* > config file (JSON) > defaults.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { SwitchboardError } from "./core/index.js";
import { parseDuration } from "./duration.js";
import { PROTOCOLS } from "./protocols/index.js";
import { portOption } from "./protocols/protocol.js";

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

/**
 * The server's own settings, their types and defaults. Keys map to flags (--kebab-case) and env
 * (SWITCHBOARD_UPPER_SNAKE); each `.describe()` is the line in `serve --help` and docs/configuration.md.
 * Each protocol module adds its own settings through its options schema (see protocols/protocol.ts).
 */
export const configSchema = z.object({
  host: z.string().min(1).default("127.0.0.1").describe("address to listen on (every listener binds it)"),
  port: portOption(8080, "HTTP port (0 = any free port, off = no HTTP listener)"),
  /** Directory of the embedded file store; ":memory:" keeps nothing. */
  dataDir: z.string().min(1).default("./data").describe('directory of the file store (":memory:" keeps nothing)'),
  /** strict: acknowledge after fsync. relaxed: acknowledge after write(), fsync every 100 ms. */
  durability: z
    .enum(["strict", "relaxed"])
    .default("strict")
    .describe("strict: answer writes after fsync; relaxed: fsync every 100 ms"),
  /** When set, registers are stored in MongoDB instead of the data dir. */
  mongoUrl: z
    .string()
    .min(1)
    .optional()
    .describe("store registers in MongoDB instead of the data dir (also $MONGO_URI)"),
  mongoDatabase: z.string().min(1).default("switchboard").describe("MongoDB database name"),
  mongoWriteTimeout: duration.default(5000).describe("how long a write waits for MongoDB"),
  /** Write concern a commit waits for: "majority" or a number of nodes. */
  mongoWriteConcern: z
    .union([z.literal("majority"), z.coerce.number().int().min(0)])
    .default("majority")
    .describe('write concern a commit waits for: "majority" or a number of nodes'),
  /** A full reconcile of the collections against the in-memory state at most this often (on activity). */
  mongoReconcileInterval: duration
    .default(15 * 60_000)
    .describe("full reconcile of MongoDB against memory at most this often"),
  /** When set, this node is a cluster member: its state lives in a NATS JetStream stream shared with the others. */
  cluster: z
    .string()
    .regex(/^(nats|tls):\/\/[^\s]+$/, "a nats:// URL (several: comma-separated)")
    .optional()
    .describe("join a cluster whose state is the JetStream stream at this nats:// URL (replaces the data dir)"),
  clusterStream: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, "letters, digits, _ or -")
    .default("switchboard")
    .describe("JetStream stream of the cluster's log (its lease bucket is <stream>-lease)"),
  clusterReplicas: int(1).default(1).describe("replicas of the stream and lease bucket when this node creates them"),
  clusterLeaseTtl: duration.default(2000).describe("writer lease TTL: a dead writer is replaced after about this long"),
  clusterSnapshotEvery: int(1)
    .default(10_000)
    .describe("the cluster writer stores a snapshot after this many log entries, then purges the log below it"),
  clusterSnapshotMargin: int(0)
    .default(1_000)
    .describe("log entries kept below the latest snapshot when purging (lagging nodes catch up without a reload)"),
  nodeId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, "letters, digits, _ . : or -")
    .optional()
    .describe("this node's name in the cluster (default: <hostname>-<pid>)"),
  /** When set, health verdicts are cached in Redis; else in memory. */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, "a redis:// or rediss:// URL")
    .optional()
    .describe(
      "Redis for health verdicts and upload task statuses (also $REDIS_HOST/$REDIS_PORT); else both stay in memory",
    ),
  redisPrefix: z.string().default("switchboard:").describe("prefix of every Redis key written"),
  healthCacheTtl: duration
    .default(10_000)
    .describe("how long a health verdict is cached (also $HEALTH_CACHE_TTL, seconds)"),
  healthInterval: duration.default(10_000).describe("period of the scheduled health checks (0 = on demand only)"),
  healthTimeout: duration.default(2000).describe("deadline of one health probe (HTTP GET or TCP connect)"),
  healthConcurrency: int(1).default(16).describe("health probes running at once"),
  logLevel: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info")
    .describe("fatal, error, warn, info, debug, trace or silent"),
  logPretty: bool.optional().describe("pretty logs instead of JSON lines (default: when stdout is a terminal)"),
  sweepInterval: duration.default(1000).describe("TTL sweep period (expiry precision)"),
  eventRingSize: int(1).default(100_000).describe("events kept for resuming watches"),
  ttlGrace: duration
    .optional()
    .describe("on start, TTL deadlines become at least now + min(ttl, this) (default: the register's TTL; 0 = none)"),
  compactAfterBytes: int(1024)
    .default(64 * 1024 * 1024)
    .describe("log size that triggers a snapshot"),
  defaultWait: duration.default(30_000).describe("long-poll wait when a request names none"),
  maxWait: duration.default(300_000).describe("longest long-poll wait allowed"),
  maxBodyBytes: int(1)
    .default(1024 * 1024)
    .describe("largest request body"),
  maxValueBytes: int(1)
    .default(64 * 1024)
    .describe("largest value"),
  maxMetadataBytes: int(1)
    .default(16 * 1024)
    .describe("largest metadata"),
  maxDepth: int(1).default(64).describe("deepest nesting of arrays/objects in a value or metadata"),
  maxBatch: int(1).default(1000).describe("registers or requests per batch"),
  maxNames: int(1).default(1000).describe("names and prefixes per read or poll"),
  maxQueue: int(1).default(1000).describe("pending change requests per register"),
  requestTtl: duration
    .default(300_000)
    .describe("how long a change request without expiresIn waits for a provider poll (0 = forever)"),
  requestHistory: duration
    .default(600_000)
    .describe("how long a change request's outcome is kept after it finished (GET /consumer/requests/<id>)"),
  maxWaiters: int(1)
    .optional()
    .describe("long-polls and event streams held at once (default: max-connections minus 64, at most 200,000)"),
  maxConnections: int(1)
    .optional()
    .describe("HTTP connections held at once; more get 503 + Retry-After (default: open-file limit minus a reserve)"),
  maxConnectionsPerIp: int(1)
    .default(2000)
    .describe("HTTP connections one client address may hold at once (loopback too); more are closed at accept"),
  requestBodyTimeout: duration
    .default(10_000)
    .describe("longest a client may take to send a request body (separate from long-poll holds)"),
  headersTimeout: duration.default(30_000).describe("longest a client may take to send its request line and headers"),
  shutdownTimeout: duration.default(10_000).describe("on SIGINT/SIGTERM, cut connections still open after this"),
  /** Where uploaded registry assets are stored: a directory (file:// URL) or s3://bucket/prefix. */
  objectStore: z
    .string()
    .min(1)
    .refine((v) => !/^s3:/i.test(v) || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(v), {
      message: "an S3 object store is s3://bucket or s3://bucket/prefix",
    })
    .optional()
    .describe(
      "where uploaded registry assets go: a directory, a file:// URL or s3://bucket/prefix (default <data-dir>/objects)",
    ),
  objectStoreEndpoint: z
    .string()
    .url()
    .optional()
    .describe("endpoint of an S3-compatible store for an s3:// object store (path-style addressing)"),
  uploadMaxBytes: int(1)
    .default(100 * 1024 * 1024)
    .describe("largest zip file POST /registry/upload_zip accepts"),
  uploadMaxEntries: int(1).default(10_000).describe("most entries an uploaded zip may list"),
  uploadMaxUncompressedBytes: int(1)
    .default(100 * 1024 * 1024)
    .describe("most bytes an uploaded zip may expand to"),
  uploadMaxQueued: int(1).default(100).describe("uploads waiting to be processed before UPLOAD_QUEUE_FULL"),
  uploadStatusTtl: duration.default(24 * 3600_000).describe("how long an upload's status is kept"),
  /** Allow browsers on other origins (Access-Control-Allow-Origin); empty disables CORS. */
  corsOrigin: z
    .string()
    .default("")
    .describe('origins allowed to call from a browser, comma-separated ("" = CORS off; "*" only with auth on)'),
  auth: z
    .enum(["auto", "on", "off"])
    .default("auto")
    .describe("tokens and ACLs: on, off, or auto (on unless --host is a loopback address)"),
  adminTokenFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      "the bootstrap admin token file (read if present, else written, mode 0600; default <data-dir>/admin.token)",
    ),
  allowedHosts: z
    .string()
    .default("")
    .describe("Host header values accepted, comma-separated (DNS-rebinding guard; empty = any)"),
  authFailuresPerMinute: int(1)
    .default(10)
    .describe("failed authentications per client address and minute before its attempts are refused (429)"),
  rateLimit: int(0)
    .default(0)
    .describe("writes and change requests per second per token and per client address (0 = unlimited)"),
  tlsCert: z
    .string()
    .min(1)
    .optional()
    .describe("PEM certificate (chain) file: with --tls-key, the HTTP port serves HTTPS directly"),
  tlsKey: z.string().min(1).optional().describe("PEM private key file of --tls-cert"),
});

export type BaseConfig = z.output<typeof configSchema>;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/;

/** Whether tokens and ACLs apply: `auth: auto` means on unless the server listens on loopback only. */
export function authEnabled(config: Pick<BaseConfig, "auth" | "host">): boolean {
  if (config.auth === "on") return true;
  if (config.auth === "off") return false;
  return !LOOPBACK.test(config.host);
}
export type Config = BaseConfig & {
  /** Each protocol module's validated options, by module name. */
  readonly protocols: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
};
export type ConfigInput = z.input<typeof configSchema>;
export type ConfigKey = keyof BaseConfig;

/** Every setting: the server's own, then each protocol module's, in module order. */
export const SETTINGS: readonly { key: string; schema: z.ZodType; module: string | null }[] = [
  ...Object.entries(configSchema.shape).map(([key, schema]) => ({ key, schema: schema as z.ZodType, module: null })),
  ...PROTOCOLS.flatMap((m) =>
    Object.entries(m.options.shape).map(([key, schema]) => ({ key, schema: schema as z.ZodType, module: m.name })),
  ),
];

export const CONFIG_KEYS: readonly string[] = SETTINGS.map((s) => s.key);
{
  const seen = new Set<string>();
  for (const k of CONFIG_KEYS) {
    if (seen.has(k)) throw new Error(`setting ${k} is declared twice (a protocol option repeats a server setting)`);
    seen.add(k);
  }
}

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
  // The names the registry proxy deployments use (REDIS_HOST/REDIS_PORT, HEALTH_CACHE_TTL in seconds).
  if (out.redisUrl === undefined && (env.REDIS_HOST || env.REDIS_PORT)) {
    out.redisUrl = `redis://${env.REDIS_HOST || "localhost"}:${env.REDIS_PORT || "6379"}`;
  }
  if (out.healthCacheTtl === undefined && env.HEALTH_CACHE_TTL) out.healthCacheTtl = `${env.HEALTH_CACHE_TTL}s`;
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
  const unknown = Object.keys(merged).filter((k) => !CONFIG_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new SwitchboardError("INVALID_CONFIG", `unknown setting(s): ${unknown.join(", ")}`, { details: { unknown } });
  }
  const issues: string[] = [];
  const pick = (shape: object) => Object.fromEntries(Object.keys(shape).map((k) => [k, merged[k]]));
  const base = configSchema.safeParse(pick(configSchema.shape));
  if (!base.success) issues.push(...base.error.issues.map((i) => `${flagName(String(i.path[0] ?? ""))}: ${i.message}`));
  const protocols: Record<string, Record<string, unknown>> = {};
  for (const m of PROTOCOLS) {
    const r = m.options.safeParse(pick(m.options.shape));
    if (r.success) protocols[m.name] = r.data as Record<string, unknown>;
    else issues.push(...r.error.issues.map((i) => `${flagName(String(i.path[0] ?? ""))}: ${i.message}`));
  }
  if (!base.success || issues.length > 0) {
    throw new SwitchboardError("INVALID_CONFIG", `invalid configuration: ${issues.join("; ")}`, { details: issues });
  }
  return { ...base.data, protocols };
}

/** flags > env > file (named by --config or SWITCHBOARD_CONFIG) > defaults. */
export function loadConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Config {
  const { config: file, ...rest } = flags;
  const path = (file as string | undefined) ?? env.SWITCHBOARD_CONFIG;
  return resolveConfig(path ? configFromFile(path) : {}, configFromEnv(env), rest);
}
