// GraphQL object and input types: the seed's camelCase registry types, registers, services, change requests, a JSON scalar.

import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLNullableType,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLString,
  type GraphQLType,
  Kind,
  type ValueNode,
} from "graphql";
import type { ChangeRequest, JsonObject, Register } from "../../core/index.js";
import type { ServiceRecord } from "../../services/index.js";
import { formatRegister, formatRequest } from "../http/format.js";

export const nonNull = <T extends GraphQLNullableType>(t: T) => new GraphQLNonNull(t);
export const list = <T extends GraphQLType>(t: T) => new GraphQLList(t);

/** A literal's JSON value; variables come in already parsed. Bounded by the document's own depth limit. */
function literalJson(node: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((v) => literalJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[node.name.value];
    default:
      return undefined;
  }
}

export const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  description: "Any JSON value.",
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (node, variables) => literalJson(node, variables),
});

/** A record as the camelCase object the GraphQL types read with their default resolvers. */
export interface RegistryView {
  readonly [field: string]: unknown;
}

const views = new WeakMap<JsonObject, RegistryView>();

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The camelCase view of a RegistryCoreData document. Documents are immutable (a change makes a
 * new one), so the view is built once per version of a record and dropped with it; GraphQL then
 * reads plain properties instead of calling a resolver per field per record.
 */
export function viewOf(doc: JsonObject): RegistryView {
  let v = views.get(doc);
  if (!v) {
    const sd = doc.registry_search_data;
    v = {
      registryId: doc.registry_id ?? null,
      registryUrl: doc.registry_url ?? null,
      registryApiIndex: doc.registry_api_index ?? null,
      registryDocumentationS3Url: doc.registry_documentation_s3_url ?? null,
      registryClientSdkS3Url: doc.registry_client_sdk_s3_url ?? null,
      registryAssetId: doc.registry_asset_id ?? null,
      healthCheckApi: doc.health_check_api ?? null,
      registryAclConfigInfo: doc.registry_acl_config_info ?? null,
      registrySearchData: isObject(sd)
        ? {
            registryId: sd.registry_id ?? null,
            registryType: sd.registry_type ?? null,
            registrySubType: sd.registry_sub_type ?? null,
            registryMetadata: sd.registry_metadata ?? null,
            registrySearchTags: Array.isArray(sd.registry_search_tags) ? sd.registry_search_tags : [],
            registrySearchDescription: sd.registry_search_description ?? null,
          }
        : null,
    };
    views.set(doc, v);
  }
  return v;
}

export const viewsOf = (docs: readonly JsonObject[]): RegistryView[] => docs.map(viewOf);

export const RegistrySearchDataType = new GraphQLObjectType({
  name: "RegistrySearchDataType",
  fields: {
    registryId: { type: GraphQLString },
    registryType: { type: GraphQLString },
    registrySubType: { type: GraphQLString },
    registryMetadata: { type: JSONScalar },
    registrySearchTags: { type: list(GraphQLString) },
    registrySearchDescription: { type: GraphQLString },
  },
});

export const RegistryType = new GraphQLObjectType({
  name: "RegistryType",
  fields: {
    registryId: { type: GraphQLString },
    registryUrl: { type: GraphQLString },
    registryApiIndex: { type: GraphQLString },
    registryDocumentationS3Url: { type: GraphQLString },
    registryClientSdkS3Url: { type: GraphQLString },
    registryAssetId: { type: GraphQLString },
    healthCheckApi: { type: GraphQLString },
    registryAclConfigInfo: { type: JSONScalar },
    registrySearchData: { type: RegistrySearchDataType },
  },
});

const searchInputFields = {
  registryType: { type: GraphQLString },
  registrySubType: { type: GraphQLString },
  registryMetadata: { type: JSONScalar },
  registrySearchTags: { type: list(nonNull(GraphQLString)) },
  registrySearchDescription: { type: GraphQLString },
};

export const RegistrySearchDataInput = new GraphQLInputObjectType({
  name: "RegistrySearchDataInput",
  fields: { registryId: { type: GraphQLString }, ...searchInputFields },
});

export const RegistryInput = new GraphQLInputObjectType({
  name: "RegistryInput",
  description: "A registry spec; on update only the given fields change (registrySearchData merged per field).",
  fields: {
    registryId: { type: nonNull(GraphQLString) },
    registryUrl: { type: GraphQLString },
    registryApiIndex: { type: GraphQLString },
    registryDocumentationS3Url: { type: GraphQLString },
    registryClientSdkS3Url: { type: GraphQLString },
    registryAssetId: { type: GraphQLString },
    healthCheckApi: { type: GraphQLString },
    registryAclConfigInfo: { type: JSONScalar },
    registrySearchData: { type: RegistrySearchDataInput },
  },
});

/** The seed's camelCase input fields and their snake_case spec names. */
const SNAKE: Readonly<Record<string, string>> = {
  registryId: "registry_id",
  registryUrl: "registry_url",
  registryApiIndex: "registry_api_index",
  registryDocumentationS3Url: "registry_documentation_s3_url",
  registryClientSdkS3Url: "registry_client_sdk_s3_url",
  registryAssetId: "registry_asset_id",
  healthCheckApi: "health_check_api",
  registryAclConfigInfo: "registry_acl_config_info",
  registrySearchData: "registry_search_data",
  registryType: "registry_type",
  registrySubType: "registry_sub_type",
  registryMetadata: "registry_metadata",
  registrySearchTags: "registry_search_tags",
  registrySearchDescription: "registry_search_description",
};

/** A RegistryInput as the snake_case spec the service validates (given fields only; null kept as null). */
export function specOfInput(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (k === "registrySearchData" && v !== null && typeof v === "object") {
      out.registry_search_data = specOfInput(v as Record<string, unknown>);
    } else out[SNAKE[k] ?? k] = v;
  }
  return out;
}

export const RegisterType = new GraphQLObjectType<Register>({
  name: "Register",
  fields: {
    name: { type: nonNull(GraphQLString) },
    value: { type: JSONScalar, resolve: (r) => r.value },
    metadata: { type: nonNull(JSONScalar), resolve: (r) => r.metadata },
    version: { type: nonNull(GraphQLInt) },
    createRevision: { type: nonNull(GraphQLFloat) },
    modRevision: { type: nonNull(GraphQLFloat) },
    createdAt: { type: nonNull(GraphQLString), resolve: (r) => formatRegister(r).createdAt },
    updatedAt: { type: nonNull(GraphQLString), resolve: (r) => formatRegister(r).updatedAt },
    expiresAt: { type: GraphQLString, resolve: (r) => formatRegister(r).expiresAt },
  },
});

export const RegisterPageType = new GraphQLObjectType<{ index: number; registers: Register[]; next: string | null }>({
  name: "RegisterPage",
  fields: {
    index: { type: nonNull(GraphQLFloat), description: "The global revision the page reflects." },
    registers: { type: nonNull(list(nonNull(RegisterType))) },
    endCursor: { type: GraphQLString, description: "Pass as `after` for the next page; null on the last page." },
    hasNextPage: { type: nonNull(GraphQLBoolean), resolve: (p) => p.next !== null },
  },
});

export const ChangeRequestType = new GraphQLObjectType<ChangeRequest>({
  name: "ChangeRequest",
  fields: {
    id: { type: nonNull(GraphQLFloat) },
    name: { type: nonNull(GraphQLString) },
    value: { type: JSONScalar, resolve: (r) => r.value },
    requestedAt: { type: nonNull(GraphQLString), resolve: (r) => formatRequest(r).requestedAt },
    requester: { type: GraphQLString },
  },
});

export const ServiceType = new GraphQLObjectType<ServiceRecord>({
  name: "Service",
  fields: {
    type: { type: nonNull(GraphQLString) },
    id: { type: nonNull(GraphQLString) },
    name: { type: nonNull(GraphQLString) },
    host: { type: nonNull(GraphQLString), resolve: (s) => s.endpoint.host },
    port: { type: nonNull(GraphQLInt), resolve: (s) => s.endpoint.port },
    endpoint: { type: nonNull(JSONScalar), resolve: (s) => s.endpoint },
    metadata: { type: nonNull(JSONScalar), resolve: (s) => s.metadata },
    expiresAt: {
      type: GraphQLString,
      resolve: (s) => (s.expiresAt === null ? null : new Date(s.expiresAt).toISOString()),
    },
  },
});

export const SetRegisterInput = new GraphQLInputObjectType({
  name: "SetRegisterInput",
  fields: {
    name: { type: nonNull(GraphQLString) },
    value: { type: JSONScalar, description: "Any JSON value (null when omitted)." },
    metadata: { type: JSONScalar, description: "A JSON object; omitted keeps the register's metadata." },
    ttlMs: { type: GraphQLFloat, description: "Lease in ms; 0 or null removes it; omitted keeps the deadline." },
  },
});

export const SetResultType = new GraphQLObjectType<{ index: number; registers: Register[] }>({
  name: "SetResult",
  fields: {
    index: { type: nonNull(GraphQLFloat) },
    registers: { type: nonNull(list(nonNull(RegisterType))) },
  },
});
