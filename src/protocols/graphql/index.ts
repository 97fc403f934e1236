// GraphQL at /graphql on the shared HTTP port: queries and mutations over graphql-http, subscriptions over graphql-sse.

import { specifiedRules, validate } from "graphql";
import { createHandler as createHttpHandler } from "graphql-http/lib/use/fetch";
import { createHandler as createSseHandler } from "graphql-sse/lib/use/fetch";
import { z } from "zod";
import { clientAddress, principalOf, requestSignal } from "../http/auth.js";
import { defineProtocol } from "../protocol.js";
import type { Access } from "./access.js";
import { boundedParse, formatGraphQLError } from "./errors.js";
import { cachedParse, cachedValidate, jitExecute } from "./execution.js";
import { GRAPHIQL_HTML, mountGraphiqlAssets } from "./graphiql.js";
import { limitsRule } from "./limits.js";
import { buildSchema, type GraphQLContext } from "./schema.js";

const PROTOCOL = "graphql";
export const GRAPHQL_PATH = "/graphql";

const limit = (fallback: number, description: string) =>
  z.coerce.number().int().min(1).max(1_000_000).default(fallback).describe(description);

export const graphqlProtocol = defineProtocol({
  name: PROTOCOL,
  options: z.object({
    graphqlMaxDepth: limit(15, "deepest selection nesting a GraphQL operation may have (introspection included)"),
    graphqlMaxCost: limit(5000, "most fields one GraphQL operation may select, fragments expanded"),
    graphqlMaxRootFields: limit(20, "most top-level fields (the batch) one GraphQL operation may carry"),
  }),
  create({ core, services, log, metrics, http, settings }, options) {
    const schema = buildSchema();
    const limits = limitsRule({
      maxDepth: options.graphqlMaxDepth,
      maxCost: options.graphqlMaxCost,
      maxRootFields: options.graphqlMaxRootFields,
    });
    const rules = [...specifiedRules, limits];
    const parse = cachedParse(boundedParse(options.graphqlMaxCost * 20));
    const validateCached = cachedValidate(validate);
    const formatError = (err: Readonly<Error>) => formatGraphQLError(err, log);
    const countErrors = (errors: readonly { extensions?: Record<string, unknown> }[] | undefined) => {
      for (const e of errors ?? []) metrics.errors.labels(PROTOCOL, String(e.extensions?.code ?? "INTERNAL")).inc();
    };
    // The caller of each request, set by the route before graphql-http or graphql-sse sees the request.
    const callers = new WeakMap<Request, { access: Access; signal: AbortSignal }>();
    const context = (req: Request): GraphQLContext => {
      const caller = callers.get(req);
      // Every request passes the route below, which sets its caller; a missing one can do nothing.
      if (!caller) throw new Error("graphql request without a caller");
      return { core, services, signal: caller.signal, defaultWaitMs: settings.defaultWaitMs, access: caller.access };
    };

    const httpHandler = createHttpHandler<GraphQLContext>({
      schema,
      parse,
      // graphql-http puts graphql's own rules first; the cached validate runs each document once.
      validationRules: [limits],
      validate: validateCached,
      execute: jitExecute(schema) as never,
      formatError,
      context: (req) => context(req.raw),
      onOperation: (_req, args, result) => {
        metrics.operations.labels(PROTOCOL, args.document.definitions.length > 0 ? "operation" : "other").inc();
        if ("errors" in result) countErrors(result.errors as never);
      },
    });
    const sseHandler = createSseHandler<GraphQLContext>({
      schema,
      validate: (s, doc) => validateCached(s, doc, rules),
      context: (req) => context(req.raw),
      onSubscribe: (_req, params) => {
        metrics.operations.labels(PROTOCOL, "subscription").inc();
        try {
          parse(params.query);
        } catch (err) {
          return { errors: [formatError(err as Error)] };
        }
        return undefined;
      },
      onNext: (_ctx, _req, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e)) } : undefined,
    });

    http.label(GRAPHQL_PATH, "/graphql/*");
    mountGraphiqlAssets(http.app);
    http.app.all(GRAPHQL_PATH, async (c) => {
      // Every field is authorized for the caller by the same rules as REST (see access.ts); a caller
      // without a token is refused here, as on the REST routes that filter.
      const { auth } = services;
      const principal = principalOf(c, auth);
      auth.requireSignedIn(principal);
      const req = c.req.raw;
      const accept = req.headers.get("accept") ?? "";
      const sse = accept.includes("text/event-stream") || req.headers.has("x-graphql-event-stream-token");
      if (!sse && req.method === "GET" && accept.includes("text/html") && !new URL(req.url).searchParams.has("query")) {
        return c.html(GRAPHIQL_HTML);
      }
      // Held polls and subscription streams end when the client goes or the token is revoked.
      const held = requestSignal(c, auth, principal);
      callers.set(req, {
        access: { auth, principal, address: clientAddress(c), revoked: held.revoked },
        signal: held.signal,
      });
      if (sse) {
        req.signal.addEventListener("abort", () => held.release(), { once: true });
        return sseHandler(req);
      }
      try {
        return await httpHandler(req);
      } finally {
        held.release();
      }
    });
    return {
      start: async () => [],
      stop: async () => undefined,
    };
  },
});
