import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, GraphQLError, GraphQLSchema, printSchema } from 'graphql';
import { compileQuery, CompiledQuery, isCompiledQuery } from 'graphql-jit';

/**
 * Compiled operations kept (least recently used dropped first). A compiled operation holds generated
 * code and closures sized by its document (hundreds of kB for a large one), and clients that inline
 * literals make every request a new document: the cache must stay small to keep memory bounded.
 */
export const MAX_COMPILED = 100;

/**
 * Runs operations with graphql-jit: each distinct document is compiled once to a JS function,
 * which executes the hot queries (a page of look-alikes is ~50 fields) several times faster than
 * the interpreter. Plugged in through Apollo's gateway interface, which is its executor hook;
 * parsing, validation (our query limits included) and error formatting stay Apollo's. A document
 * graphql-jit cannot compile runs on graphql-js's own execute.
 */
export function jitGateway(schema: GraphQLSchema): GatewayInterface {
  const compiled = new Map<string, CompiledQuery | null>();
  const executor: GatewayExecutor = async (rc) => {
    const key = `${rc.queryHash}:${rc.operationName ?? ''}`;
    let query = compiled.get(key);
    if (query !== undefined) {
      // Most recently used last: Map iteration order is insertion order.
      compiled.delete(key);
      compiled.set(key, query);
    } else {
      const result = compileQuery(schema, rc.document, rc.operationName ?? undefined);
      query = isCompiledQuery(result) ? result : null;
      if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
      compiled.set(key, query);
    }
    if (!query) {
      return execute({ schema, document: rc.document, contextValue: rc.context, variableValues: rc.request.variables, operationName: rc.operationName });
    }
    const result = await query.query(undefined, rc.context, rc.request.variables ?? {});
    // graphql-jit builds its own error objects; Apollo's error pipeline expects graphql-js's.
    if (result.errors) {
      return {
        ...result,
        errors: result.errors.map(
          (e) =>
            new GraphQLError(e.message, {
              path: e.path,
              originalError: e.originalError ?? e,
              extensions: e.extensions ?? {},
            }),
        ),
      };
    }
    return result;
  };
  let onSchema: Parameters<GatewayInterface['onSchemaLoadOrUpdate']>[0] | undefined;
  return {
    onSchemaLoadOrUpdate(callback) {
      onSchema = callback;
      return () => (onSchema = undefined);
    },
    load() {
      onSchema?.({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return Promise.resolve({ executor });
    },
    stop() {
      compiled.clear();
      return Promise.resolve();
    },
  };
}
