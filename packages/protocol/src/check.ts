/**
 * Structural checks of parsed JSON, without zod.
 *
 * The agent validates every response it receives, and it must cost a product little
 * memory: zod alone adds about 14 MB to a Node process (ADR 0005). These checks cover
 * what the device protocol needs — strings with length and pattern, safe integers with
 * bounds, literals, enums, optional members, arrays, objects (unknown members dropped, or
 * refused when strict) and records — and are kept equal to the zod schemas in
 * `messages.ts` by a differential property test (`wire-checks.test.ts`).
 */

/** Checks `value` found at `path`; returns the typed value or throws a `ShapeError`. */
export type Check<T> = (value: unknown, path: string) => T;

/** The type a check returns. */
export type Checked<C> = C extends Check<infer T> ? T : never;

/**
 * `true` when check `C` returns exactly type `S` (a zod schema's inferred type), else `false`. A
 * tuple of them that must extend `true[]` makes any difference between a check and its schema
 * fail compilation.
 */
export type CheckAgrees<C, S> =
  (<T>() => T extends Checked<C> ? 1 : 2) extends <T>() => T extends S ? 1 : 2 ? true : false;

/** What is wrong with a value, and where: `path` (`a.b[2].c`, empty for the value itself). */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path || 'value'}: expected ${expected}`);
  }
}

function fail(path: string, expected: string): never {
  throw new ShapeError(path, expected);
}

const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * Members and items are checked with an empty path, and a failure is given its place on the way
 * out: building every member's path up front would cost more than the checks themselves.
 */
function within(error: unknown, path: string, key: string | number): unknown {
  if (!(error instanceof ShapeError)) return error;
  const inner = error.path;
  const here = join(path, key);
  return new ShapeError(
    inner === '' ? here : inner.startsWith('[') ? here + inner : `${here}.${inner}`,
    error.expected,
  );
}

/** What `string()` accepts: a length range and an optional pattern (named in the error). */
export interface StringRules {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** How to name the pattern in an error ("a lowercase hex serial"). */
  patternName?: string;
  /** A substring the value must contain. */
  includes?: string;
}

/** A string within the given rules. */
export function string(rules: StringRules = {}): Check<string> {
  const { min = 0, max = Number.POSITIVE_INFINITY, pattern, patternName, includes } = rules;
  return (v, p) => {
    if (typeof v !== 'string') return fail(p, 'a string');
    if (v.length < min) return fail(p, `at least ${min} characters`);
    if (v.length > max) return fail(p, `at most ${max} characters`);
    if (pattern && !pattern.test(v)) return fail(p, patternName ?? `a string matching ${pattern}`);
    if (includes !== undefined && !v.includes(includes)) return fail(p, `a string containing "${includes}"`);
    return v;
  };
}

/** What `integer()` accepts: a safe integer within optional bounds. */
export interface IntegerRules {
  min?: number;
  max?: number;
  /** How to name the bounds in an error ("a date from … to …"); default "an integer ≥ min" / "≤ max". */
  expected?: string;
}

/** A safe integer within the given bounds (inclusive). */
export function integer(rules: IntegerRules = {}): Check<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER, expected } = rules;
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return fail(p, expected ?? 'an integer');
    if (v < min) return fail(p, expected ?? `an integer ≥ ${min}`);
    if (v > max) return fail(p, expected ?? `an integer ≤ ${max}`);
    return v;
  };
}

/** A finite number. */
export const number: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'a number'));

/** A boolean. */
export const boolean: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'a boolean'));

/** Anything at all (for members checked elsewhere). */
export const unknown: Check<unknown> = (v) => v;

/** Exactly `expected`. */
export function literal<const T extends string | number | boolean>(expected: T): Check<T> {
  return (v, p) => (v === expected ? expected : fail(p, JSON.stringify(expected)));
}

/** One of the given strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(...values: T): Check<T[number]> {
  return (v, p) => (values.includes(v as string) ? (v as T[number]) : fail(p, `one of ${values.join(', ')}`));
}

/** Passes the first check that accepts the value. */
export function either<A, B>(first: Check<A>, second: Check<B>): Check<A | B> {
  return (v, p) => {
    try {
      return first(v, p);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      try {
        return second(v, p);
      } catch (other) {
        if (!(other instanceof ShapeError)) throw other;
        return fail(p, `${error.expected}, or ${other.expected}`);
      }
    }
  };
}

const OPTIONAL = Symbol('optional');
/** A check marking an object member that may be absent. */
export type OptionalCheck<T> = Check<T | undefined> & { readonly [OPTIONAL]: true };

/** Absent (undefined), or passing `check`. As an object member, the key may be missing. */
export function optional<T>(check: Check<T>): OptionalCheck<T> {
  const optionalCheck = (v: unknown, p: string) => (v === undefined ? undefined : check(v, p));
  return Object.assign(optionalCheck, { [OPTIONAL]: true as const });
}

/** What `array()` accepts: how many items, at most. */
export interface ArrayRules {
  min?: number;
  max?: number;
}

/** An array whose items pass `item`. */
export function array<T>(item: Check<T>, rules: ArrayRules = {}): Check<T[]> {
  const { min = 0, max = Number.POSITIVE_INFINITY } = rules;
  return (v, p) => {
    if (!Array.isArray(v)) return fail(p, 'an array');
    if (v.length < min) return fail(p, `at least ${min} items`);
    if (v.length > max) return fail(p, `at most ${max} items`);
    const out: T[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      try {
        out[i] = item(v[i], '');
      } catch (error) {
        throw within(error, p, i);
      }
    }
    return out;
  };
}

/** The members of an object: a check each. */
export type Shape = Record<string, Check<unknown>>;

type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalCheck<unknown> ? K : never }[keyof S];
type Flatten<T> = { [K in keyof T]: T[K] };

/** The object type a shape describes; members with an `optional` check may be absent. */
export type ShapeType<S extends Shape> = Flatten<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Checked<S[K]> } & {
    [K in OptionalKeys<S>]?: Exclude<Checked<S[K]>, undefined>;
  }
>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An object whose members pass their checks. Returns a new object with only the listed
 * members (absent optional members left out); other members are dropped, or refused when
 * `strict`.
 */
export function object<S extends Shape>(shape: S, options: { strict?: boolean } = {}): Check<ShapeType<S>> {
  const entries = Object.entries(shape);
  return (v, p) => {
    if (!isPlainObject(v)) return fail(p, 'an object');
    const out: Record<string, unknown> = {};
    for (const [key, check] of entries) {
      let member: unknown;
      try {
        member = check(v[key], '');
      } catch (error) {
        throw within(error, p, key);
      }
      if (member !== undefined) out[key] = member;
    }
    if (options.strict) {
      for (const key of Object.keys(v)) if (!Object.hasOwn(shape, key)) fail(join(p, key), 'no such member');
    }
    return out as ShapeType<S>;
  };
}

/** An object whose every member passes `value`; a `__proto__` member is left out. */
export function record<T>(value: Check<T>): Check<Record<string, T>> {
  return (v, p) => {
    if (!isPlainObject(v)) return fail(p, 'an object');
    const out: Record<string, T> = {};
    for (const [key, member] of Object.entries(v)) {
      if (key === '__proto__') continue; // never copied (as zod does): no prototype games
      try {
        out[key] = value(member, '');
      } catch (error) {
        throw within(error, p, key);
      }
    }
    return out;
  };
}

/** A check's answer: the typed value, or the first problem found. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Runs `check` on `value` and answers instead of throwing. */
export function parseWith<T>(check: Check<T>, value: unknown): Parsed<T> {
  try {
    return { ok: true, value: check(value, '') };
  } catch (error) {
    if (error instanceof ShapeError) return { ok: false, problem: error.message };
    throw error;
  }
}
