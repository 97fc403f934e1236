// Fast GraphQL execution: parsed documents cached by text, validation cached per document, queries compiled by graphql-jit.

import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  type parse,
  type validate,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";

/**
 * Clients send the same few documents over and over; parsing and validating one costs about as
 * much as answering it. Documents are immutable once parsed, so the cache hands out the same
 * object, and validation results hang off that object (the schema and rules are fixed).
 */
export function cachedParse(inner: typeof parse, maxEntries = 500): typeof parse {
  const cache = new Map<string, DocumentNode>();
  return (source, options) => {
    if (typeof source !== "string") return inner(source, options);
    const hit = cache.get(source);
    if (hit) {
      // Map order is insertion order: re-inserting keeps recently used documents last (LRU).
      cache.delete(source);
      cache.set(source, hit);
      return hit;
    }
    const doc = inner(source, options);
    cache.set(source, doc);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    return doc;
  };
}

export function cachedValidate(inner: typeof validate): typeof validate {
  const results = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  return (schema, doc, rules, options, typeInfo) => {
    const hit = results.get(doc);
    if (hit) return hit;
    const errors = inner(schema, doc, rules, options, typeInfo);
    results.set(doc, errors);
    return errors;
  };
}

/**
 * Queries run as code graphql-jit generated for the document (several times faster than the
 * interpreter on wide lists of records); mutations, introspection, operations whose top level
 * uses fragments, and anything the compiler declines, run
 * through graphql's own execute. Compiled queries are kept per document and operation name.
 */
export function jitExecute(schema: GraphQLSchema): (args: ExecutionArgs) => Promise<ExecutionResult> | ExecutionResult {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  return (args) => {
    const op = getOperationAST(args.document, args.operationName);
    if (op?.operation !== "query" || args.schema !== schema) return execute(args);
    // Introspection is rare and its resolvers are graphql's own: it stays with the interpreter.
    if (op.selectionSet.selections.some((s) => s.kind !== Kind.FIELD || s.name.value.startsWith("__"))) {
      return execute(args);
    }
    let perDoc = compiled.get(args.document);
    if (!perDoc) {
      perDoc = new Map();
      compiled.set(args.document, perDoc);
    }
    const key = args.operationName ?? "";
    let query = perDoc.get(key);
    if (query === undefined) {
      const c = compileQuery(schema, args.document, args.operationName ?? undefined);
      query = isCompiledQuery(c) ? c : null;
      perDoc.set(key, query);
    }
    if (!query) return execute(args);
    return query.query(args.rootValue, args.contextValue, args.variableValues ?? {}) as
      | Promise<ExecutionResult>
      | ExecutionResult;
  };
}
