// The long-polls of REST in GraphQL: consumerPoll (a query that may hold) and pollRequests (a mutation: it acknowledges).

import { GraphQLBoolean, GraphQLFloat, GraphQLInt, GraphQLList, GraphQLObjectType, GraphQLString } from "graphql";
import type { ChangeRequest, RegisterView, Switchboard } from "../../core/index.js";
import { type Access, can, check, stillAuthorized } from "./access.js";
import { ChangeRequestType, list, nonNull, RegisterType } from "./types.js";

interface PollContext {
  readonly core: Switchboard;
  readonly signal?: AbortSignal;
  readonly defaultWaitMs: number;
  readonly access: Access;
}

const RegisterViewType = new GraphQLObjectType<RegisterView>({
  name: "RegisterView",
  fields: {
    name: { type: nonNull(GraphQLString) },
    found: { type: nonNull(GraphQLBoolean) },
    register: { type: RegisterType, resolve: (v) => (v.found ? v.register : null) },
  },
});

const ConsumerPollType = new GraphQLObjectType<{ index: number; resync: boolean; registers: RegisterView[] }>({
  name: "ConsumerPoll",
  fields: {
    index: { type: nonNull(GraphQLFloat), description: "Pass as `index` to the next poll." },
    resync: { type: nonNull(GraphQLBoolean), description: "The index was too old or ahead: this is the full state." },
    registers: { type: nonNull(list(nonNull(RegisterViewType))) },
  },
});

const ProviderPollType = new GraphQLObjectType<{ index: number; requests: ChangeRequest[] }>({
  name: "ProviderPoll",
  fields: {
    index: { type: nonNull(GraphQLFloat) },
    requests: { type: nonNull(list(nonNull(ChangeRequestType))) },
  },
});

const selectorArgs = {
  names: { type: new GraphQLList(nonNull(GraphQLString)) },
  prefixes: { type: new GraphQLList(nonNull(GraphQLString)) },
};

interface SelectorArgs {
  names?: string[] | null;
  prefixes?: string[] | null;
  waitMs?: number | null;
}

const selectorOf = (a: SelectorArgs) => ({ names: a.names ?? [], prefixes: a.prefixes ?? [] });
const optionsOf = (a: SelectorArgs, ctx: PollContext) => ({
  waitMs: a.waitMs ?? ctx.defaultWaitMs,
  signal: ctx.signal,
});

/** GET /consumer: the selection's current registers, or held until one changes after `index`. */
export const consumerPollField = {
  type: nonNull(ConsumerPollType),
  description:
    "Without index: the current registers. With index: held until a change after it (or waitMs, with the usual jitter; capped by --max-wait).",
  args: { ...selectorArgs, index: { type: GraphQLFloat }, waitMs: { type: GraphQLInt } },
  resolve: async (_: unknown, a: SelectorArgs & { index?: number | null }, ctx: PollContext) => {
    const names = new Set(a.names ?? []);
    check(ctx.access, "read", [...names]);
    const result = await ctx.core.consumerPoll(selectorOf(a), a.index ?? undefined, optionsOf(a, ctx));
    // Prefix matches the caller may not read are left out (no found:false hint), as in GET /consumer.
    const registers = result.registers.filter((v) => names.has(v.name) || can(ctx.access, "read", v.name));
    return stillAuthorized(ctx.access, { ...result, registers });
  },
};

/** GET /provider: acknowledges requests up to `after`, then answers the newer ones or holds for one. */
export const pollRequestsField = {
  type: nonNull(ProviderPollType),
  description:
    "Acknowledges (drops) the selection's requests with id <= after, then answers newer ones or holds for one.",
  args: { ...selectorArgs, after: { type: GraphQLFloat }, waitMs: { type: GraphQLInt } },
  resolve: async (_: unknown, a: SelectorArgs & { after?: number | null }, ctx: PollContext) => {
    // As GET /provider: provide on each name, and on everything under each prefix (an acknowledgement drops requests).
    check(ctx.access, "provide", a.names ?? []);
    ctx.access.auth.authorizePrefixes(ctx.access.principal, "provide", a.prefixes ?? []);
    const result = await ctx.core.providerPoll(selectorOf(a), a.after ?? undefined, optionsOf(a, ctx));
    return stillAuthorized(ctx.access, result);
  },
};
