// Depth, cost and batch limits on GraphQL documents, checked as a validation rule before anything executes.

import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";

export interface GraphQLLimits {
  /** Deepest nesting of selections (fragments expanded), introspection included. */
  readonly maxDepth: number;
  /** Most fields one operation may select (fragments expanded, each spread counted where it is used). */
  readonly maxCost: number;
  /** Most top-level fields (aliases included) of one operation: the batch one request may carry. */
  readonly maxRootFields: number;
}

interface Measure {
  readonly depth: number;
  readonly cost: number;
}

/**
 * Measures a selection set. Fragment measures are memoised, so a fragment spread many times
 * costs one walk; a cycle (refused by graphql's own rule) measures as infinitely deep here.
 * Costs saturate at `cap` so a fan-out bomb (fragments spreading each other twice) stays cheap.
 */
function measure(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  memo: Map<string, Measure | "visiting">,
  cap: number,
): Measure {
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    let m: Measure;
    if (sel.kind === Kind.FIELD) {
      const inner = sel.selectionSet ? measure(sel.selectionSet, fragments, memo, cap) : { depth: 0, cost: 0 };
      m = { depth: inner.depth + 1, cost: inner.cost + 1 };
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      m = measure(sel.selectionSet, fragments, memo, cap);
    } else {
      const name = sel.name.value;
      const known = memo.get(name);
      if (known === "visiting") m = { depth: Number.POSITIVE_INFINITY, cost: cap };
      else if (known) m = known;
      else {
        const def = fragments.get(name);
        if (!def) m = { depth: 0, cost: 0 };
        else {
          memo.set(name, "visiting");
          m = measure(def.selectionSet, fragments, memo, cap);
          memo.set(name, m);
        }
      }
    }
    depth = Math.max(depth, m.depth);
    cost = Math.min(cap, cost + m.cost);
  }
  return { depth, cost };
}

/** The validation rule: one error per operation over a limit, code QUERY_TOO_COMPLEX. */
export function limitsRule(limits: GraphQLLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const doc = context.getDocument();
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of doc.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    const fail = (op: OperationDefinitionNode, message: string) =>
      context.reportError(new GraphQLError(message, { nodes: [op], extensions: { code: "QUERY_TOO_COMPLEX" } }));
    return {
      OperationDefinition(op) {
        const roots = op.selectionSet.selections.length;
        if (roots > limits.maxRootFields) {
          fail(op, `the operation selects ${roots} top-level fields; at most ${limits.maxRootFields} are allowed`);
          return;
        }
        const m = measure(op.selectionSet, fragments, new Map(), limits.maxCost + 1);
        if (m.depth > limits.maxDepth) fail(op, `the operation nests deeper than ${limits.maxDepth} levels`);
        else if (m.cost > limits.maxCost) fail(op, `the operation selects more than ${limits.maxCost} fields`);
      },
    };
  };
}
