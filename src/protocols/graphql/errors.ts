// GraphQL errors carry the REST error codes in extensions.code; unexpected failures are logged and masked.

import { GraphQLError, parse } from "graphql";
import type { Logger } from "pino";
import { isSwitchboardError } from "../../core/index.js";

/** The formatted error: coded failures keep their code and details, anything else becomes INTERNAL. */
export function formatGraphQLError(err: Readonly<GraphQLError | Error>, log: Logger): GraphQLError {
  const original = err instanceof GraphQLError ? err.originalError : err;
  const base = err instanceof GraphQLError ? err : undefined;
  const options = { nodes: base?.nodes ?? null, path: base?.path ?? null, positions: base?.positions ?? null };
  if (isSwitchboardError(original)) {
    const extensions =
      original.details === undefined
        ? { code: original.code }
        : { code: original.code, details: original.details as Record<string, unknown> };
    return new GraphQLError(original.message, { ...options, extensions });
  }
  if (base && (original === undefined || original instanceof GraphQLError)) {
    // Syntax and validation errors (and GraphQL's own coercion errors) are the client's input.
    const code = typeof base.extensions.code === "string" ? base.extensions.code : "INVALID_QUERY";
    return new GraphQLError(base.message, {
      nodes: base.nodes ?? null,
      source: base.source ?? null,
      positions: base.positions ?? null,
      path: base.path ?? null,
      extensions: { ...base.extensions, code },
    });
  }
  if (base && original && /^(Expected|Variable|Int cannot|Float cannot|String cannot)/.test(original.message)) {
    return new GraphQLError(base.message, { ...options, extensions: { code: "INVALID_QUERY" } });
  }
  log.error({ err: original ?? err }, "graphql resolver failed");
  return new GraphQLError("internal error", { ...options, extensions: { code: "INTERNAL" } });
}

/** Deepest brace/bracket nesting a document may have before it is parsed (graphql's parser recurses). */
const MAX_NESTING = 64;

/**
 * graphql's parser with a token cap and a nesting check in front, so a hostile document can
 * neither run the parser long nor overflow its stack.
 */
export function boundedParse(maxTokens: number): typeof parse {
  return (source, options) => {
    const text = typeof source === "string" ? source : source.body;
    let depth = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34 /* " */ && text.charCodeAt(i - 1) !== 92 /* \ */) inString = !inString;
      if (inString) continue;
      if (c === 123 || c === 91 || c === 40) depth++;
      else if (c === 125 || c === 93 || c === 41) depth--;
      if (depth > MAX_NESTING) {
        throw new GraphQLError(`the document nests deeper than ${MAX_NESTING} levels`, {
          extensions: { code: "QUERY_TOO_COMPLEX" },
        });
      }
    }
    return parse(source, { ...options, maxTokens });
  };
}
