// The `registry.*` methods: zod params (named or positional), each answered with the Plexus RegistryEvent content.

import { z } from "zod";
import { SwitchboardError } from "../../core/index.js";
import { BACKEND_NAME, BACKENDS_PREFIX, type BackendPatch, type BackendStore } from "./backends.js";
import type { BackendsFile } from "./backends-file.js";

export interface MethodContext {
  readonly store: BackendStore;
  readonly file: BackendsFile;
}

interface MethodDef<S extends z.ZodType> {
  /** One line, served in the method's schema. */
  readonly description: string;
  readonly schema: S;
  /** Parameter names in declaration order, for positional (array) params. */
  readonly order: readonly string[];
  run(ctx: MethodContext, params: z.output<S>): Promise<unknown> | unknown;
}

function define<S extends z.ZodType>(def: MethodDef<S>): MethodDef<z.ZodType> {
  return def as unknown as MethodDef<z.ZodType>;
}

// Serde's Option<T> takes null as None: so do these.
const opt = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);
const name = z.string().regex(BACKEND_NAME, "must be 1-200 characters of A-Z a-z 0-9 . _ - :");
const host = z.string().min(1).max(255);
const port = z.number().int().min(0).max(65535);
const protocol = z.string().min(1).max(32);
const description = z.string().max(1024);
const namespace = z.string().max(256);

function patchOf(p: {
  host?: string | undefined;
  port?: number | undefined;
  protocol?: string | undefined;
  description?: string | undefined;
  namespace?: string | undefined;
}): BackendPatch {
  const out: { -readonly [K in keyof BackendPatch]: BackendPatch[K] } = {};
  if (p.host !== undefined) out.host = p.host;
  if (p.port !== undefined) out.port = p.port;
  if (p.protocol !== undefined) out.protocol = p.protocol;
  if (p.description !== undefined) out.description = p.description;
  if (p.namespace !== undefined) out.namespace = p.namespace;
  return out;
}

export const METHODS: Readonly<Record<string, MethodDef<z.ZodType>>> = {
  register: define({
    description: "Register a new Plexus backend for discovery",
    schema: z.object({
      name,
      host,
      port,
      protocol: opt(protocol),
      description: opt(description),
      namespace: opt(namespace),
    }),
    order: ["name", "host", "port", "protocol", "description", "namespace"],
    async run({ store }, p) {
      const backend = await store.register(
        p.name,
        { ...patchOf(p), host: p.host, port: p.port, protocol: p.protocol ?? "ws" },
        "manual",
      );
      return { type: "backend_registered", backend };
    },
  }),
  list: define({
    description: "List all registered backends",
    schema: z.object({ active_only: opt(z.boolean()) }),
    order: ["active_only"],
    run: ({ store }, p) => ({ type: "backends", backends: store.list(p.active_only ?? true) }),
  }),
  get: define({
    description: "Get information about a specific backend by name",
    schema: z.object({ name: z.string().max(1024) }),
    order: ["name"],
    run: ({ store }, p) => ({ type: "backend", backend: store.get(p.name) }),
  }),
  update: define({
    description: "Update an existing backend's connection information",
    schema: z.object({
      name: z.string().max(1024),
      host: opt(host),
      port: opt(port),
      protocol: opt(protocol),
      description: opt(description),
      namespace: opt(namespace),
    }),
    order: ["name", "host", "port", "protocol", "description", "namespace"],
    async run({ store }, p) {
      return { type: "backend_updated", backend: await store.update(p.name, patchOf(p)) };
    },
  }),
  delete: define({
    description: "Remove a backend from the registry",
    schema: z.object({ name: z.string().max(1024) }),
    order: ["name"],
    async run({ store }, p) {
      await store.delete(p.name);
      return { type: "backend_deleted", name: p.name };
    },
  }),
  ping: define({
    description: "Update the health check timestamp for a backend",
    schema: z.object({ name: z.string().max(1024) }),
    order: ["name"],
    async run({ store }, p) {
      const pinged = await store.ping(p.name);
      return pinged
        ? { type: "ping", name: p.name, success: true, message: "Backend health check updated" }
        : { type: "ping", name: p.name, success: false, message: `Backend not found: ${p.name}` };
    },
  }),
  reload: define({
    description: "Reload backends from the configuration file",
    schema: z.object({}),
    order: [],
    async run({ file }) {
      return { type: "reloaded", count: (await file.reload()).applied };
    },
  }),
};

export const METHOD_NAMES = Object.keys(METHODS);

/** `registry.watch` streams instead of answering once, so the connection runs it; its params live here with the rest. */
export const WATCH_PARAMS = z.object({
  prefix: z.string().max(256).default(BACKENDS_PREFIX),
  after: z.number().int().min(0).optional(),
});

/** Validates params against a schema; INVALID_BODY names each bad field (answered as -32602). */
export function validateParams<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new SwitchboardError(
    "INVALID_BODY",
    `Invalid params: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
    { details: issues },
  );
}

/** A method's params: named as they are, positional ones mapped by declaration order, absent ones as {}. */
export function parseParams<S extends z.ZodType>(def: MethodDef<S>, raw: unknown): z.output<S> {
  if (!Array.isArray(raw)) return validateParams(def.schema, raw);
  if (raw.length > def.order.length) {
    throw new SwitchboardError("INVALID_BODY", `Invalid params: at most ${def.order.length} positional params`, {
      details: [{ path: "", message: `expected at most ${def.order.length} params, got ${raw.length}` }],
    });
  }
  return validateParams(def.schema, Object.fromEntries(raw.map((v, i) => [def.order[i], v])));
}

export type { MethodDef };
