/**
 * A schema-driven GraphQL fuzzer: random operations, arguments and variables generated from a
 * schema, reproducible from a seed. Arguments are mostly well-typed with hostile values (empty,
 * huge, negative, out of 32-bit range, unknown ids, malformed cursors, junk images); a share are
 * ill-typed on purpose (wrong-typed, missing or unknown variables, unknown input fields) so that the
 * server's coercion paths are exercised too.
 */
import { mulberry32 } from '../../src/ml/math/random';
import {
  getNamedType,
  GraphQLField,
  GraphQLInputType,
  GraphQLNamedType,
  GraphQLObjectType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  isUnionType,
} from 'graphql';

/** The fuzzer's seeded generator: the project's mulberry32 (the same seed gives the same cases). */
export const seededRandom = mulberry32;

export interface FuzzCase {
  query: string;
  variables: Record<string, unknown>;
  /** Whether the case is sent with the admin key. */
  admin: boolean;
}

export interface FuzzOptions {
  /** Root fields never generated (e.g. retrain: it would train for real in the background). */
  skipFields?: string[];
  /** Values that name real things (existing movie ids, a valid cursor, a real poster in base64). */
  ids?: string[];
  cursors?: string[];
  imagesBase64?: string[];
  maxDepth?: number;
}

const HOSTILE_STRINGS = ['', ' ', 'a', 'love', '%_\\', "'; DROP TABLE movie; --", '\u0000', '🎬'.repeat(3), 'x'.repeat(3000), 'Comedy', 'Sci-Fi'];
const HOSTILE_URLS = [
  'http://127.0.0.1/x.jpg',
  'http://10.0.0.1/p.png',
  'ftp://x/y.jpg',
  'not a url',
  'http://[::1]/a.jpg',
  'file:///etc/passwd',
  'http://169.254.169.254/',
];
const INTS = [0, 1, 2, 3, 5, 10, 20, 100, 101, -1, -100, 1800, 1999, 2200, 2147483647, -2147483648, 4294967296];
const FLOATS = [0, 0.5, 1, -1, 4.5, 1e308, -1e-308, 3.3];
const BAD_IDS = ['0', '-1', 'abc', '99999999999', '1.5', '', ' 1', '2147483648', '4294967296'];
const BAD_CURSORS = [
  '',
  'abc',
  Buffer.from('movie:-1').toString('base64url'),
  Buffer.from('movie:99999999999').toString('base64url'),
  Buffer.from('movie:x').toString('base64url'),
];

export class GraphQLFuzzer {
  private readonly rnd: () => number;
  private readonly opts: Required<FuzzOptions>;

  constructor(
    private readonly schema: GraphQLSchema,
    readonly seed: number,
    opts: FuzzOptions = {},
  ) {
    this.rnd = seededRandom(seed);
    this.opts = { skipFields: [], ids: ['1'], cursors: [], imagesBase64: [], maxDepth: 4, ...opts };
  }

  private chance(p: number): boolean {
    return this.rnd() < p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  /** One random operation, with its variables. */
  next(): FuzzCase {
    const mutation = this.schema.getMutationType();
    const useMutation = mutation !== null && mutation !== undefined && this.chance(0.2);
    const root = (useMutation ? mutation : this.schema.getQueryType())!;
    const fields = Object.values(root.getFields()).filter((f) => !this.opts.skipFields.includes(f.name));
    const vars: VarState = { defs: [], values: {}, n: 0 };
    const count = 1 + Math.floor(this.rnd() * (this.chance(0.1) ? 4 : 2));
    const selections: string[] = [];
    for (let i = 0; i < count; i++) {
      const f = this.pick(fields);
      selections.push(`f${i}: ${this.field(f, 1, vars)}`);
    }
    // Wrong on purpose: an unknown variable, or one declared but not given.
    if (this.chance(0.05)) vars.values[`unknown${vars.n}`] = 1;
    if (this.chance(0.05) && vars.defs.length) delete vars.values[Object.keys(vars.values)[0]];
    const header = vars.defs.length ? `(${vars.defs.join(', ')})` : '';
    const query = `${useMutation ? 'mutation' : 'query'} Fuzz${header} { ${selections.join(' ')} }`;
    return { query, variables: vars.values, admin: this.chance(0.7) };
  }

  private field(f: GraphQLField<unknown, unknown>, depth: number, vars: VarState): string {
    const args = f.args
      .filter((a) => isNonNullType(a.type) || this.chance(0.6))
      .map((a) => `${a.name}: ${this.argument(a.name, a.type, vars)}`)
      .filter(Boolean);
    const head = args.length ? `${f.name}(${args.join(', ')})` : f.name;
    const t = getNamedType(f.type);
    return isLeafType(t) ? head : `${head} { ${this.selection(t, depth + 1, vars)} }`;
  }

  private selection(t: GraphQLNamedType, depth: number, vars: VarState): string {
    if (isUnionType(t) || isInterfaceType(t)) {
      const types = isUnionType(t) ? t.getTypes() : this.schema.getPossibleTypes(t);
      return `__typename ${types.map((o) => `... on ${o.name} { ${this.selection(o, depth, vars)} }`).join(' ')}`;
    }
    const o = t as GraphQLObjectType;
    const fields = Object.values(o.getFields());
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !isNonNullType(a.type)));
    const out: string[] = [];
    if (leaves.length) out.push(this.pick(leaves).name);
    const more = Math.floor(this.rnd() * 4);
    for (let i = 0; i < more; i++) {
      const f = this.pick(fields);
      if (!isLeafType(getNamedType(f.type)) && depth >= this.opts.maxDepth) continue;
      out.push(`${f.name === out[0] ? '' : `s${i}: `}${this.field(f, depth, vars)}`);
    }
    return out.length ? out.join(' ') : '__typename';
  }

  /** An argument as a literal or (sometimes) a variable, its value sometimes of the wrong type. */
  private argument(name: string, type: GraphQLInputType, vars: VarState): string {
    if (this.chance(0.35)) {
      const v = `$v${vars.n++}`;
      const withDefault = this.chance(0.15);
      const value = this.value(name, type, 0);
      if (withDefault && value !== undefined) {
        vars.defs.push(`${v}: ${typeString(type).replace(/!$/, '')} = ${this.literal(value, type)}`);
      } else {
        vars.defs.push(`${v}: ${typeString(type)}`);
        // Wrong-typed on purpose now and then: a string for a number, an object for a string.
        vars.values[v.slice(1)] = this.chance(0.07) ? this.pick(['abc', 1.5, { x: 1 }, [1, 2], true]) : value;
      }
      return v;
    }
    const value = this.value(name, type, 0);
    return value === undefined ? 'null' : this.literal(value, type);
  }

  /** A JS value for an input type (undefined: null). */
  private value(name: string, type: GraphQLInputType, depth: number): unknown {
    if (!isNonNullType(type) && this.chance(0.08)) return undefined;
    const t: GraphQLInputType = isNonNullType(type) ? type.ofType : type;
    if (isListType(t)) {
      const n = Math.floor(this.rnd() * (this.chance(0.1) ? 30 : 4));
      return Array.from({ length: n }, () => this.value(name, t.ofType, depth + 1) ?? this.value(name, t.ofType, depth + 1));
    }
    if (isEnumType(t)) return { enum: this.pick(t.getValues()).name };
    if (isInputObjectType(t)) {
      const out: Record<string, unknown> = {};
      for (const f of Object.values(t.getFields())) {
        if (isNonNullType(f.type) || this.chance(0.45)) {
          const v = this.value(f.name, f.type, depth + 1);
          if (v !== undefined || !isNonNullType(f.type)) out[f.name] = v;
        }
      }
      return out;
    }
    if (isScalarType(t)) return this.scalar(name, t.name);
    return null;
  }

  private scalar(name: string, type: string): unknown {
    const lower = name.toLowerCase();
    switch (type) {
      case 'Int':
        return this.pick(INTS);
      case 'Float':
        return this.pick(FLOATS);
      case 'Boolean':
        return this.chance(0.5);
      case 'ID':
        return this.chance(0.6) ? this.pick(this.opts.ids) : this.pick(BAD_IDS);
      default:
        if (lower === 'after' && this.chance(0.7)) return this.opts.cursors.length && this.chance(0.5) ? this.pick(this.opts.cursors) : this.pick(BAD_CURSORS);
        if (lower.includes('base64')) {
          return this.opts.imagesBase64.length && this.chance(0.5)
            ? this.pick(this.opts.imagesBase64)
            : this.pick(['', 'aGVsbG8=', '!!!', 'data:image/png;base64,AAAA']);
        }
        if (lower.includes('url')) return this.pick(HOSTILE_URLS);
        if (lower === 'imdbid') return this.pick(['tt0116209', 'tt9999999', 'nm123', '', 'tt' + '1'.repeat(30)]);
        return this.pick(HOSTILE_STRINGS);
    }
  }

  private literal(value: unknown, type: GraphQLInputType): string {
    if (value === undefined || value === null) return 'null';
    const t: GraphQLInputType = isNonNullType(type) ? type.ofType : type;
    if (isListType(t)) return `[${(value as unknown[]).map((v) => this.literal(v, t.ofType)).join(', ')}]`;
    if (isInputObjectType(t)) {
      const fields = t.getFields();
      const parts = Object.entries(value as Record<string, unknown>).map(
        ([k, v]) => `${k}: ${fields[k] ? this.literal(v, fields[k].type) : JSON.stringify(v)}`,
      );
      return `{${parts.join(', ')}}`;
    }
    if (typeof value === 'object' && value && 'enum' in value) return String((value as { enum: string }).enum);
    if (typeof value === 'number' && !Number.isFinite(value)) return '0';
    return JSON.stringify(value);
  }
}

interface VarState {
  defs: string[];
  values: Record<string, unknown>;
  n: number;
}

function typeString(t: GraphQLInputType): string {
  if (isNonNullType(t)) return `${typeString(t.ofType)}!`;
  if (isListType(t)) return `[${typeString(t.ofType)}]`;
  return t.name;
}

/** Variables carry enums as their names (JSON strings). */
export function jsonVariables(values: Record<string, unknown>): Record<string, unknown> {
  const conv = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(conv);
    if (v && typeof v === 'object') {
      if ('enum' in v && Object.keys(v).length === 1) return (v as { enum: string }).enum;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
    }
    return v;
  };
  return conv(values) as Record<string, unknown>;
}
