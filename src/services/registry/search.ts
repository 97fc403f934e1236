// The search DSL: Lucene-like queries parsed by liqe, with field aliases, field groups and coded syntax errors.

import { type LiqeQuery, parse, test } from "liqe";
import { type JsonObject, SwitchboardError } from "../../core/index.js";
import { unsafeRegexReason } from "../regex-guard.js";

export const MAX_QUERY_LENGTH = 2000;

/** Short names for the record paths people search most; full snake_case paths work as well. */
export const ALIASES: Readonly<Record<string, string>> = {
  id: "registry_id",
  url: "registry_url",
  type: "registry_search_data.registry_type",
  subtype: "registry_search_data.registry_sub_type",
  tags: "registry_search_data.registry_search_tags",
  description: "registry_search_data.registry_search_description",
  metadata: "registry_search_data.registry_metadata",
};

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

function invalid(message: string, position: number, query: string): never {
  throw new SwitchboardError("INVALID_QUERY", message, { details: { q: query, position } });
}

/** A compiled query: `matches(doc)` tests one RegistryCoreData document. */
export interface CompiledSearch {
  matches(doc: JsonObject): boolean;
}

/**
 * Parses a query. liqe has no `field:(a OR b)` groups, so they are expanded first to
 * `(field:a OR field:b)`, keeping a map back to the original offsets so that a syntax error
 * reports the position the user typed. A quoted phrase with `*` or `?` is a wildcard match.
 */
export function compileSearch(query: string): CompiledSearch {
  if (query.length > MAX_QUERY_LENGTH) invalid(`the query is longer than ${MAX_QUERY_LENGTH} characters`, 0, query);
  const { text, origin } = expandFieldGroups(query);
  let ast: LiqeQuery;
  try {
    ast = parse(text);
  } catch (err) {
    // liqe gives the offset of a bad token; input that ends too early has none: the error is at the end.
    const offset = (err as { offset?: unknown }).offset;
    const position = typeof offset === "number" ? (origin[offset] ?? query.length) : query.length;
    invalid(`syntax error at position ${position}`, position, query);
  }
  rewrite(ast, query);
  return { matches: (doc) => test(ast, doc) };
}

/** Walks the AST (bounded by the query length) resolving aliases and quoted wildcards. */
function rewrite(root: LiqeQuery, query: string): void {
  const stack: LiqeQuery[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.left) stack.push(node.left);
    if (node.right) stack.push(node.right);
    if (node.operand) stack.push(node.operand);
    if (node.type === "ParenthesizedExpression") stack.push(node.expression as LiqeQuery);
    if (node.type !== "Tag") continue;
    if (node.field.type === "Field") {
      const [head, ...rest] = node.field.name.split(".");
      const first = head ?? "";
      const path = [...(Object.hasOwn(ALIASES, first) ? ALIASES[first]! : first).split("."), ...rest];
      if (path.some((p) => p === "" || FORBIDDEN_SEGMENTS.has(p))) {
        invalid(`field ${node.field.name} is not searchable`, node.field.location.start, query);
      }
      const field = node.field as { name: string; path?: readonly string[] };
      field.name = path.join(".");
      field.path = path;
      // liqe's precompiled accessor follows the typed name; the rewritten path is used instead.
      delete node.getValue;
    }
    const e = node.expression as { type: string; quoted?: boolean; value?: unknown; location?: { start: number } };
    if (e.type === "RegexExpression" && typeof e.value === "string") {
      const unsafe = unsafeRegexReason(e.value);
      if (unsafe) invalid(`the regex ${unsafe}`, e.location?.start ?? 0, query);
    }
    if (e.type === "LiteralExpression" && e.quoted && typeof e.value === "string" && /[*?]/.test(e.value)) {
      e.quoted = false;
    }
  }
}

const GROUP_START = /^([A-Za-z_][\w.]*):\(/;
const KEYWORDS = new Set(["AND", "OR", "NOT"]);

/** Copies a quoted run starting at i (its quote char at i); returns the index after its closing quote. */
function quotedEnd(q: string, i: number): number {
  const quote = q[i];
  let j = i + 1;
  while (j < q.length && q[j] !== quote) j += q[j] === "\\" ? 2 : 1;
  return Math.min(j + 1, q.length);
}

/** Rewrites `field:(a OR -b)` as `(field:a OR -field:b)`; `origin[i]` is the user's offset of output char i. */
export function expandFieldGroups(q: string): { text: string; origin: number[] } {
  let text = "";
  const origin: number[] = [];
  const emit = (s: string, at: number) => {
    text += s;
    for (let k = 0; k < s.length; k++) origin.push(at);
  };
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (c === '"' || c === "'") {
      const end = quotedEnd(q, i);
      for (let k = i; k < end; k++) emit(q[k]!, k);
      i = end;
      continue;
    }
    const prev = i === 0 ? " " : q[i - 1]!;
    const m = /[\s(-]/.test(prev) ? GROUP_START.exec(q.slice(i, i + 300)) : null;
    if (!m) {
      emit(c, i);
      i++;
      continue;
    }
    const field = m[1]!;
    emit("(", i);
    i += m[0].length;
    let depth = 1;
    while (depth > 0) {
      if (i >= q.length) invalid(`unclosed group of field ${field}`, q.length, q);
      const ch = q[i]!;
      if (/\s/.test(ch)) {
        emit(ch, i++);
      } else if (ch === "(" || ch === ")") {
        depth += ch === "(" ? 1 : -1;
        emit(ch, i++);
      } else {
        let j = i;
        while (j < q.length && !/[\s()]/.test(q[j]!)) j = q[j] === '"' || q[j] === "'" ? quotedEnd(q, j) : j + 1;
        const term = q.slice(i, j);
        if (KEYWORDS.has(term)) emit(term, i);
        else {
          const negated = term.startsWith("-");
          const body = negated ? term.slice(1) : term;
          if (/^[^"']*:/.test(body)) invalid(`a group of field ${field} holds a field of its own`, i, q);
          emit(`${negated ? "-" : ""}${field}:`, i);
          for (let k = 0; k < body.length; k++) emit(body[k]!, i + (negated ? 1 : 0) + k);
        }
        i = j;
      }
    }
  }
  return { text, origin };
}
