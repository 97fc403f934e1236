// The one GraphQL schema over everything Switchboard holds: registry records, registers, services, change requests.

import { GraphQLBoolean, GraphQLFloat, GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import {
  assertPrefix,
  isValidName,
  type Json,
  type JsonObject,
  type Switchboard,
  SwitchboardError,
} from "../../core/index.js";
import type { Services } from "../../services/index.js";
import { DEFAULT_LIMIT, MAX_LIMIT, registryName } from "../../services/registry/index.js";
import { type Access, can, charge, check, checkRecordWrite, filterRecords, visibleRecords } from "./access.js";
import { consumerPollField, pollRequestsField } from "./polls.js";
import { subscriptionType } from "./subscriptions.js";
import {
  ChangeRequestType,
  JSONScalar,
  list,
  nonNull,
  RegisterPageType,
  RegisterType,
  RegistryInput,
  RegistryType,
  ServiceType,
  SetRegisterInput,
  SetResultType,
  specOfInput,
  viewOf,
  viewsOf,
} from "./types.js";

export interface GraphQLContext {
  [key: PropertyKey]: unknown;
  readonly core: Switchboard;
  readonly services: Services;
  /** The wait of a poll that names none (--default-wait). */
  readonly defaultWaitMs: number;
  /** Ends subscription streams when the request goes away (or the caller's token is revoked). */
  readonly signal?: AbortSignal;
  /** The caller: every field is authorized per name as the REST routes are. */
  readonly access: Access;
}

const registries = nonNull(list(nonNull(RegistryType)));
const strings = nonNull(list(nonNull(GraphQLString)));

const encodeCursor = (name: string) => Buffer.from(name, "utf8").toString("base64url");
function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, "base64url").toString("utf8");
  if (!isValidName(name) || encodeCursor(name) !== cursor) {
    throw new SwitchboardError("INVALID_CURSOR", "the cursor was not produced by this server");
  }
  return name;
}

function limitOf(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new SwitchboardError("INVALID_QUERY", `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const query = new GraphQLObjectType<unknown, GraphQLContext>({
  name: "Query",
  fields: {
    registryById: {
      type: RegistryType,
      description: "One registry record, or null.",
      args: { registryId: { type: nonNull(GraphQLString) } },
      resolve: (_, a: { registryId: string }, { services, access }) => {
        check(access, "read", [registryName(a.registryId)]);
        const doc = services.registry.find(a.registryId);
        return doc ? viewOf(doc) : null;
      },
    },
    registriesByType: {
      type: registries,
      args: { registryType: { type: nonNull(GraphQLString) } },
      resolve: (_, a: { registryType: string }, { services, access }) =>
        viewsOf(filterRecords(access, services.registry.byType(a.registryType).registries)),
    },
    registriesByTags: {
      type: registries,
      description: "Records carrying any of the tags.",
      args: { tags: { type: nonNull(list(GraphQLString)) } },
      resolve: (_, a: { tags: (string | null)[] }, { services, access }) =>
        viewsOf(
          filterRecords(access, services.registry.byTags(a.tags.filter((t): t is string => t !== null)).registries),
        ),
    },
    registriesByUrl: {
      type: registries,
      description: "Case-insensitive substring match on registry_url.",
      args: { urlFragment: { type: nonNull(GraphQLString) } },
      resolve: (_, a: { urlFragment: string }, { services, access }) =>
        viewsOf(filterRecords(access, services.registry.byUrl(a.urlFragment).registries)),
    },
    registriesByFilter: {
      type: registries,
      description: "A Mongo-style filter given as a JSON string (the operator allow-list of POST /registry/query).",
      args: { mongoFilter: { type: nonNull(GraphQLString) }, limit: { type: GraphQLInt, defaultValue: DEFAULT_LIMIT } },
      resolve: (_, a: { mongoFilter: string; limit: number }, { services, access }) => {
        let filter: unknown;
        try {
          filter = JSON.parse(a.mongoFilter);
        } catch {
          throw new SwitchboardError("INVALID_FILTER", "mongoFilter is not valid JSON");
        }
        const q = { filter: filter as JsonObject, limit: limitOf(a.limit) };
        return viewsOf(services.registry.query(q, visibleRecords(access) ?? undefined).registries);
      },
    },
    search: {
      type: registries,
      description: "The search DSL of GET /registry/search.",
      args: { q: { type: nonNull(GraphQLString) }, limit: { type: GraphQLInt, defaultValue: DEFAULT_LIMIT } },
      resolve: (_, a: { q: string; limit: number }, { services, access }) =>
        viewsOf(services.registry.search(a.q, limitOf(a.limit), visibleRecords(access) ?? undefined).registries),
    },
    register: {
      type: RegisterType,
      args: { name: { type: nonNull(GraphQLString) } },
      resolve: (_, a: { name: string }, { core, access }) => {
        if (!isValidName(a.name)) return null;
        check(access, "read", [a.name]);
        return core.get(a.name) ?? null;
      },
    },
    registers: {
      type: nonNull(RegisterPageType),
      description: "A page of registers under a prefix, in name order; continue with after = endCursor.",
      args: {
        prefix: { type: GraphQLString, defaultValue: "" },
        first: { type: GraphQLInt, defaultValue: 100 },
        after: { type: GraphQLString },
      },
      resolve: (_, a: { prefix: string; first: number; after?: string | null }, { core, access }) => {
        assertPrefix(a.prefix);
        const page = core.list(a.prefix, a.first, a.after ? decodeCursor(a.after) : undefined);
        return {
          index: core.revision,
          // Filtered after paging (as GET /registers): a page may be shorter than first; the cursor still continues.
          registers: page.registers.filter((r) => can(access, "read", r.name)),
          next: page.next,
          endCursor: page.next === null ? null : encodeCursor(page.next),
        };
      },
    },
    services: {
      type: nonNull(list(nonNull(ServiceType))),
      description:
        "Registered services (of a type). A registration lives while its lease does, so every listed service is healthy; healthy: false lists none.",
      args: { type: { type: GraphQLString }, healthy: { type: GraphQLBoolean } },
      resolve: (_, a: { type?: string | null; healthy?: boolean | null }, { services, access }) =>
        a.healthy === false
          ? []
          : services.discovery.list(a.type ?? undefined).filter((s) => can(access, "read", s.name)),
    },
    consumerPoll: consumerPollField,
    changeRequests: {
      type: nonNull(list(nonNull(ChangeRequestType))),
      description: "Pending change requests of a register with id > after.",
      args: { name: { type: nonNull(GraphQLString) }, after: { type: GraphQLFloat, defaultValue: 0 } },
      resolve: (_, a: { name: string; after: number }, { core, access }) => {
        if (!isValidName(a.name)) throw new SwitchboardError("INVALID_NAME", `not a register name: ${a.name}`);
        check(access, "read", [a.name]);
        return core.pendingRequests({ names: [a.name] }, a.after);
      },
    },
  },
});

interface SetArg {
  name: string;
  value?: Json;
  metadata?: Json;
  ttlMs?: number | null;
}

const mutation = new GraphQLObjectType<unknown, GraphQLContext>({
  name: "Mutation",
  fields: {
    createRegistry: {
      type: nonNull(RegistryType),
      args: { registry: { type: nonNull(RegistryInput) } },
      resolve: async (_, a: { registry: Record<string, unknown> }, { services, access }) => {
        const spec = specOfInput(a.registry);
        checkRecordWrite(access, spec);
        return viewOf((await services.registry.create(spec)).registry);
      },
    },
    updateRegistry: {
      type: nonNull(RegistryType),
      args: { registry: { type: nonNull(RegistryInput) } },
      resolve: async (_, a: { registry: Record<string, unknown> }, { services, access }) => {
        const spec = specOfInput(a.registry);
        checkRecordWrite(access, spec);
        return viewOf((await services.registry.update(spec)).registry);
      },
    },
    deleteRegistry: {
      type: nonNull(GraphQLBoolean),
      description: "True once deleted; REGISTRY_NOT_FOUND when there was no such record.",
      args: { registryId: { type: nonNull(GraphQLString) } },
      resolve: async (_, a: { registryId: string }, { services, access }) => {
        check(access, "write", [registryName(a.registryId)]);
        await services.registry.delete(a.registryId);
        return true;
      },
    },
    setRegisters: {
      type: nonNull(SetResultType),
      description: "Sets registers all or nothing (as PUT /provider).",
      args: { registers: { type: nonNull(list(nonNull(SetRegisterInput))) } },
      resolve: async (_, a: { registers: SetArg[] }, { core, access }) => {
        check(
          access,
          "write",
          a.registers.map((r) => r.name),
        );
        charge(access, a.registers.length);
        const inputs = a.registers.map((r) => {
          if (r.metadata !== undefined && r.metadata !== null && !isObject(r.metadata)) {
            throw new SwitchboardError("INVALID_BODY", `metadata of ${r.name} must be an object`);
          }
          return {
            name: r.name,
            value: r.value ?? null,
            ...(isObject(r.metadata) ? { metadata: r.metadata } : {}),
            ...(r.ttlMs === undefined ? {} : { ttlMs: r.ttlMs }),
          };
        });
        const results = await core.set(inputs);
        return { index: core.revision, registers: results.map((r) => r.register) };
      },
    },
    deleteRegisters: {
      type: strings,
      description: "Deletes registers; answers the names that existed.",
      args: { names: { type: strings } },
      resolve: (_, a: { names: string[] }, { core, access }) => {
        check(access, "write", a.names);
        charge(access, a.names.length);
        return core.delete(a.names);
      },
    },
    pollRequests: pollRequestsField,
    requestChange: {
      type: nonNull(ChangeRequestType),
      description: "Queues a change request for the register's provider (as PUT /consumer).",
      args: { name: { type: nonNull(GraphQLString) }, value: { type: JSONScalar }, requester: { type: GraphQLString } },
      resolve: async (_, a: { name: string; value?: Json; requester?: string | null }, { core, access }) => {
        check(access, "request", [a.name]);
        charge(access, 1);
        const [req] = await core.request([
          { name: a.name, value: a.value ?? null, ...(a.requester ? { requester: a.requester } : {}) },
        ]);
        return req!;
      },
    },
  },
});

export function buildSchema(): GraphQLSchema {
  return new GraphQLSchema({ query, mutation, subscription: subscriptionType });
}
