// Plexus introspection: `<hub>.schema` / `registry.schema` answer the shallow PluginSchema hub clients fetch first, `.hash` its cache key.

import { createHash } from "node:crypto";
import { z } from "zod";
import { SwitchboardError } from "../../core/index.js";
import { ACTIVATION, HUB_BACKEND, PLEXUS_HASH } from "./hub.js";
import { METHODS, type MethodDef, WATCH_PARAMS } from "./methods.js";

interface MethodSchema {
  readonly name: string;
  readonly description: string;
  readonly hash: string;
  readonly params: unknown;
  readonly streaming: boolean;
  readonly bidirectional: false;
}

const hash16 = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

function methodSchema(name: string, description: string, schema: z.ZodType, streaming: boolean): MethodSchema {
  const params = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return {
    name,
    description,
    hash: hash16(`${name}:${JSON.stringify(params)}`),
    params,
    streaming,
    bidirectional: false,
  };
}

const REGISTRY_METHODS: readonly MethodSchema[] = [
  ...Object.entries(METHODS).map(([name, def]: [string, MethodDef<z.ZodType>]) =>
    methodSchema(name, def.description, def.schema, false),
  ),
  methodSchema("watch", "Stream changes of the registers under a prefix (default backends/)", WATCH_PARAMS, true),
];

const REGISTRY_SCHEMA = {
  namespace: ACTIVATION.namespace,
  version: ACTIVATION.version,
  description: ACTIVATION.description,
  hash: PLEXUS_HASH,
  methods: REGISTRY_METHODS,
};

function hubSchema(serverVersion: string): unknown {
  return {
    namespace: HUB_BACKEND,
    version: serverVersion,
    description: "Switchboard serving the Plexus registry",
    hash: PLEXUS_HASH,
    methods: [],
    children: [{ namespace: ACTIVATION.namespace, description: ACTIVATION.description, hash: PLEXUS_HASH }],
  };
}

const INTROSPECTION = new Set([HUB_BACKEND, ACTIVATION.namespace].flatMap((ns) => [`${ns}.schema`, `${ns}.hash`]));

/** True for the inner methods this file answers. */
export function isSchemaMethod(method: string): boolean {
  return INTROSPECTION.has(method);
}

/** `.hash`: the cache key; `.schema`: the whole plugin, or one method's schema when params name one. */
export function schemaContent(method: string, params: unknown, serverVersion: string): unknown {
  if (method.endsWith(".hash")) return { hash: PLEXUS_HASH };
  if (method === `${HUB_BACKEND}.schema`) return hubSchema(serverVersion);
  const wanted = (params as { method?: unknown } | null | undefined)?.method;
  if (wanted === undefined || wanted === null) return REGISTRY_SCHEMA;
  const m = REGISTRY_METHODS.find((x) => x.name === wanted);
  if (!m)
    throw new SwitchboardError("INVALID_BODY", `Invalid params: method: no method ${String(wanted).slice(0, 256)}`);
  return m;
}
