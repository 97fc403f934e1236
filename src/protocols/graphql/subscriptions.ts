// GraphQL subscriptions driven by core.watch: register and registry changes, resumable with `after`, with the /events resync rules.

import { GraphQLFloat, GraphQLList, GraphQLObjectType, GraphQLString } from "graphql";
import { type Register, type Switchboard, SwitchboardError } from "../../core/index.js";
import type { WatchOptions } from "../../core/watch.js";
import { REGISTRY_PREFIX, registryIdOf, registryName, toRegistryCoreData } from "../../services/registry/index.js";
import { type Access, can, check } from "./access.js";
import { ChangeRequestType, nonNull, RegisterType, RegistryType, viewOf } from "./types.js";

/**
 * One item of a stream. `type` is the event type (set, delete, expire, request, ack), or
 * `resync` (the `after` given is no longer covered: re-read, events from `revision` on follow),
 * or `cut` (the client fell too far behind: the stream ends; resubscribe with after = revision).
 */
interface ChangeItem {
  readonly type: string;
  readonly revision: number;
  readonly name: string | null;
  readonly register: Register | null;
  readonly request: unknown;
}

const RegisterEventType = new GraphQLObjectType<ChangeItem>({
  name: "RegisterEvent",
  fields: {
    type: { type: nonNull(GraphQLString), description: "set, delete, expire, request, ack, resync or cut." },
    revision: { type: nonNull(GraphQLFloat), description: "Resume after a disconnect with after = this." },
    name: { type: GraphQLString },
    register: { type: RegisterType, description: "The register after a set." },
    request: { type: ChangeRequestType, description: "The change request of a request event." },
  },
});

const RegistryEventType = new GraphQLObjectType<ChangeItem>({
  name: "RegistryEvent",
  fields: {
    type: { type: nonNull(GraphQLString), description: "set, delete, expire, resync or cut." },
    revision: { type: nonNull(GraphQLFloat) },
    registryId: { type: GraphQLString, resolve: (i) => (i.name === null ? null : registryIdOf(i.name)) },
    registry: {
      type: RegistryType,
      description: "The record after a set.",
      resolve: (i) =>
        i.register && i.name ? viewOf(toRegistryCoreData(registryIdOf(i.name) ?? "", i.register.value)) : null,
    },
  },
});

interface Ctx {
  readonly core: Switchboard;
  readonly signal?: AbortSignal;
  readonly access: Access;
}

/** Events of registers the caller may not read are left out (as on /events); resyncs and cuts pass. */
async function* changes(core: Switchboard, options: WatchOptions, kinds: ReadonlySet<string> | null, access: Access) {
  const watch = core.watch(options);
  try {
    for await (const item of watch) {
      if (item.type === "event") {
        const e = item.event;
        if (kinds && !kinds.has(e.type)) continue;
        if (!can(access, "read", e.name)) continue;
        yield {
          type: e.type,
          revision: e.revision,
          name: e.name,
          register: e.type === "set" ? e.register : null,
          request: e.type === "request" ? e.request : null,
        } satisfies ChangeItem;
      } else {
        yield { type: item.type, revision: item.index, name: null, register: null, request: null } satisfies ChangeItem;
      }
    }
  } finally {
    await watch.return();
  }
}

function afterOf(after: number | null | undefined): number | undefined {
  if (after === null || after === undefined) return undefined;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new SwitchboardError("INVALID_INDEX", "after must be a non-negative integer revision");
  }
  return after;
}

const RECORD_EVENTS = new Set(["set", "delete", "expire"]);

export const subscriptionType = new GraphQLObjectType<unknown, Ctx>({
  name: "Subscription",
  fields: {
    registerChanged: {
      type: nonNull(RegisterEventType),
      description: "Changes of the named registers and/or prefixes (everything when neither is given).",
      args: {
        names: { type: new GraphQLList(nonNull(GraphQLString)) },
        prefix: { type: GraphQLString },
        after: { type: GraphQLFloat, description: "Replay events after this revision first." },
      },
      subscribe: (
        _,
        a: { names?: string[] | null; prefix?: string | null; after?: number | null },
        { core, signal, access },
      ) => {
        const after = afterOf(a.after);
        // Named registers are refused when unreadable; prefix matches are filtered per event.
        check(access, "read", a.names ?? []);
        access.auth.requireSignedIn(access.principal);
        return changes(
          core,
          {
            names: a.names ?? [],
            prefixes: a.prefix === null || a.prefix === undefined ? [] : [a.prefix],
            ...(after === undefined ? {} : { after }),
            ...(signal ? { signal } : {}),
          },
          null,
          access,
        );
      },
      resolve: (item: unknown) => item as ChangeItem,
    },
    registryChanged: {
      type: nonNull(RegistryEventType),
      description: "Changes of registry records (of one registryId when given).",
      args: { registryId: { type: GraphQLString }, after: { type: GraphQLFloat } },
      subscribe: (_, a: { registryId?: string | null; after?: number | null }, { core, signal, access }) => {
        const after = afterOf(a.after);
        const id = a.registryId;
        if (id) check(access, "read", [registryName(id)]);
        access.auth.requireSignedIn(access.principal);
        return changes(
          core,
          {
            ...(id ? { names: [registryName(id)] } : { prefixes: [REGISTRY_PREFIX] }),
            ...(after === undefined ? {} : { after }),
            ...(signal ? { signal } : {}),
          },
          RECORD_EVENTS,
          access,
        );
      },
      resolve: (item: unknown) => item as ChangeItem,
    },
  },
});
