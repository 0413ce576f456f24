/** Minimal argv parsing: positionals plus `--flag value` / `--flag=value` / boolean `--flag`. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (booleanFlags.includes(a.slice(2)) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags.set(a.slice(2), true);
    else flags.set(a.slice(2), argv[++i]);
  }
  return { positionals, flags };
}

export function intFlag(args: ParsedArgs, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (v === true || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} needs an integer${range.max !== undefined ? ` from ${min} to ${max}` : min === 0 ? ' >= 0' : ` >= ${min}`}`);
  }
  return n;
}

/** A number flag >= 0 (learning rates, penalties): undefined when absent. */
export function nonNegativeNumberFlag(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} needs a number >= 0`);
  return n;
}

/** Refuses flags the command does not know (a typo must not be silently ignored). */
export function checkFlags(args: ParsedArgs, command: string, known: readonly string[]): void {
  for (const name of args.flags.keys()) {
    if (!known.includes(name)) {
      throw new UsageError(
        `unknown option --${name} for ${command}${known.length ? ` (it takes ${known.map((k) => `--${k}`).join(', ')})` : ' (it takes no options)'}`,
      );
    }
  }
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export class UsageError extends Error {}
