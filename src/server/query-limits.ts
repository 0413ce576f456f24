import type { ApolloServerPlugin } from '@apollo/server';
import {
  ASTVisitor,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  getNamedType,
  getVariableValues,
  GraphQLCompositeType,
  GraphQLError,
  GraphQLSchema,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  valueFromAST,
  visit,
} from 'graphql';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
}

/** What one HTTP request has spent so far: shared by the operations of a batch (their contexts share it). */
export interface CostBudget {
  spent: number;
}

// Arguments that multiply the cost of everything selected below them.
const LIST_ARGS = ['first', 'k'];
/** The size assumed for a list argument with neither a value nor a schema default. */
const DEFAULT_LIST_SIZE = 20;

/**
 * A validation rule (it runs once per distinct document, before any resolver) that refuses
 * operations nested deeper than `maxDepth`. The cost needs the request's variables, so it is
 * checked per request by `queryCostPlugin`.
 */
export function queryDepthRule(limits: Pick<QueryLimits, 'maxDepth'>) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument().definitions);
    const depthOf = (set: SelectionSetNode, depth: number, seen: ReadonlySet<string>): number => {
      let max = depth;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.selectionSet && !sel.name.value.startsWith('__')) max = Math.max(max, depthOf(sel.selectionSet, depth + 1, seen));
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          max = Math.max(max, depthOf(sel.selectionSet, depth, seen));
        } else {
          const frag = fragments.get(sel.name.value);
          if (frag && !seen.has(frag.name.value)) max = Math.max(max, depthOf(frag.selectionSet, depth, new Set([...seen, frag.name.value])));
        }
      }
      return max;
    };
    return {
      OperationDefinition(op: OperationDefinitionNode) {
        const depth = depthOf(op.selectionSet, 1, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`query depth ${depth} exceeds the limit of ${limits.maxDepth}`, {
              nodes: [op],
              extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_DEEP' },
            }),
          );
        }
      },
    };
  };
}

function fragmentsOf(definitions: ReadonlyArray<{ kind: Kind }>): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set((def as FragmentDefinitionNode).name.value, def as FragmentDefinitionNode);
  return fragments;
}

/**
 * The estimated cost of one operation with the request's (coerced) variables: every field costs 1,
 * times the product of the list sizes (`first`/`k`) of the fields above it. A list size is the
 * literal, else the variable's value (its default included), else the argument's schema default.
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): number {
  const listSize = (field: FieldNode, parent: GraphQLCompositeType): number => {
    const def = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[field.name.value] : undefined;
    const arg = def?.args.find((a) => LIST_ARGS.includes(a.name));
    if (!arg) return 1;
    const node = field.arguments?.find((a) => a.name.value === arg.name);
    let value: unknown = undefined;
    if (node) value = node.value.kind === Kind.VARIABLE ? variables[node.value.name.value] : valueFromAST(node.value, arg.type, variables);
    if (typeof value !== 'number') value = arg.defaultValue;
    return typeof value === 'number' && Number.isFinite(value) ? Math.max(1, Math.floor(value)) : DEFAULT_LIST_SIZE;
  };
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number, seen: ReadonlySet<string>): number => {
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        cost += multiplier;
        if (!sel.selectionSet) continue;
        const def = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[sel.name.value] : undefined;
        const child = def ? getNamedType(def.type) : undefined;
        if (child && isCompositeType(child)) cost += walk(sel.selectionSet, child, multiplier * listSize(sel, parent), seen);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        cost += walk(sel.selectionSet, t && isCompositeType(t) ? t : parent, multiplier, seen);
      } else {
        const frag = fragments.get(sel.name.value);
        if (!frag || seen.has(frag.name.value)) continue; // cycles are reported by graphql's own rules
        const t = schema.getType(frag.typeCondition.name.value);
        cost += walk(frag.selectionSet, t && isCompositeType(t) ? t : parent, multiplier, new Set([...seen, frag.name.value]));
      }
    }
    return cost;
  };
  const root = schema.getRootType(operation.operation);
  return root ? walk(operation.selectionSet, root, 1, new Set()) : 0;
}

/**
 * Per request, once the operation is known: coerces the variables (a wrong-typed, missing or
 * unknown variable is BAD_USER_INPUT with graphql's message, before anything runs) and adds the
 * operation's cost, priced with those variables, to the request's budget. A batch shares one
 * budget, so ten operations cost what one operation doing all their work would.
 */
export function queryCostPlugin<C extends { budget: CostBudget }>(limits: Pick<QueryLimits, 'maxCost'>): ApolloServerPlugin<C> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation(rc) {
          const operation = rc.operation;
          if (!operation) return Promise.resolve(); // Apollo itself answers "unknown operation"
          const coerced = getVariableValues(rc.schema, operation.variableDefinitions ?? [], rc.request.variables ?? {}, { maxErrors: 10 });
          if (coerced.errors) {
            throw new GraphQLError(coerced.errors.map((e) => e.message).join('; '), {
              nodes: coerced.errors[0].nodes,
              extensions: { code: 'BAD_USER_INPUT', reason: 'BAD_VARIABLES', http: { status: 400 } },
            });
          }
          // PostgreSQL text cannot hold NUL: refuse it here, for every argument, rather than fail in SQL.
          if (hasNul(coerced.coerced) || hasNulLiteral(rc.document)) {
            throw new GraphQLError('strings may not contain the NUL character (\\u0000)', {
              extensions: { code: 'BAD_USER_INPUT', reason: 'NUL_CHARACTER', http: { status: 400 } },
            });
          }
          const cost = operationCost(rc.schema, operation, fragmentsOf(rc.document.definitions), coerced.coerced);
          const budget = rc.contextValue.budget;
          budget.spent += cost;
          if (cost > limits.maxCost || budget.spent > limits.maxCost) {
            const what = budget.spent > cost ? `query cost ${cost} (${budget.spent} with the other operations of its batch)` : `query cost ${cost}`;
            throw new GraphQLError(`${what} exceeds the limit of ${limits.maxCost}`, {
              nodes: [operation],
              extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_COSTLY', http: { status: 400 } },
            });
          }
          return Promise.resolve();
        },
      });
    },
  };
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') return Object.values(value).some(hasNul);
  return false;
}

function hasNulLiteral(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    StringValue(node) {
      if (node.value.includes('\u0000')) found = true;
    },
  });
  return found;
}
