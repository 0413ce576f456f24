import { ASTVisitor, FieldNode, FragmentDefinitionNode, GraphQLError, Kind, OperationDefinitionNode, SelectionSetNode, ValidationContext } from 'graphql';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
}

// Arguments that multiply the cost of everything selected below them.
const LIST_ARGS = ['first', 'k'];
const DEFAULT_LIST_SIZE = 20;

/**
 * A validation rule (so it runs before any resolver) that refuses operations nested deeper than
 * `maxDepth` or whose estimated cost exceeds `maxCost`. Cost: every field costs 1, times the
 * product of the `first`/`k` arguments of the list fields above it.
 */
export function queryLimitsRule(limits: QueryLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const listSize = (field: FieldNode, variables: Record<string, unknown>): number => {
      for (const arg of field.arguments ?? []) {
        if (!LIST_ARGS.includes(arg.name.value)) continue;
        if (arg.value.kind === Kind.INT) return Math.max(1, Number(arg.value.value));
        if (arg.value.kind === Kind.VARIABLE) {
          const v = variables[arg.value.name.value];
          return typeof v === 'number' ? Math.max(1, v) : DEFAULT_LIST_SIZE;
        }
      }
      return 1;
    };
    const walk = (set: SelectionSetNode, depth: number, multiplier: number, seen: Set<string>): { depth: number; cost: number } => {
      let maxDepth = depth;
      let cost = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          const size = sel.selectionSet ? listSize(sel, {}) : 1;
          cost += multiplier;
          if (sel.selectionSet) {
            const inner = walk(sel.selectionSet, depth + 1, multiplier * size, seen);
            maxDepth = Math.max(maxDepth, inner.depth);
            cost += inner.cost;
          }
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const inner = walk(sel.selectionSet, depth, multiplier, seen);
          maxDepth = Math.max(maxDepth, inner.depth);
          cost += inner.cost;
        } else {
          const name = sel.name.value;
          const frag = fragments.get(name);
          if (!frag || seen.has(name)) continue; // cycles are reported by graphql's own rules
          const inner = walk(frag.selectionSet, depth, multiplier, new Set([...seen, name]));
          maxDepth = Math.max(maxDepth, inner.depth);
          cost += inner.cost;
        }
      }
      return { depth: maxDepth, cost };
    };
    return {
      OperationDefinition(op: OperationDefinitionNode) {
        const { depth, cost } = walk(op.selectionSet, 1, 1, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`query depth ${depth} exceeds the limit of ${limits.maxDepth}`, {
              nodes: [op],
              extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_DEEP' },
            }),
          );
        } else if (cost > limits.maxCost) {
          context.reportError(
            new GraphQLError(`query cost ${cost} exceeds the limit of ${limits.maxCost}`, {
              nodes: [op],
              extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_COSTLY' },
            }),
          );
        }
      },
    };
  };
}
