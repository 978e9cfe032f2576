/** A structural check of parsed JSON; throws a `ShapeError` naming the path on mismatch. */
export type Check = (value: unknown, path: string) => void;

/** What is wrong with a value, and where. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

const fail = (path: string, expected: string): never => {
  throw new ShapeError(`${path || 'value'}: expected ${expected}`);
};

/** A string. */
export const str: Check = (v, p) => (typeof v === 'string' ? undefined : fail(p, 'a string'));
/** A finite number. */
export const num: Check = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? undefined : fail(p, 'a number'));
/** A boolean. */
export const bool: Check = (v, p) => (typeof v === 'boolean' ? undefined : fail(p, 'a boolean'));

/** One of the given literal values. */
export function oneOf(...values: readonly unknown[]): Check {
  return (v, p) => (values.includes(v) ? undefined : fail(p, `one of ${values.join(', ')}`));
}

/** Absent (undefined) or passing `check`. */
export function opt(check: Check): Check {
  return (v, p) => (v === undefined ? undefined : check(v, p));
}

/** An array whose items pass `check`. */
export function arr(check: Check): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return fail(p, 'an array');
    v.forEach((item, i) => {
      check(item, `${p}[${i}]`);
    });
  };
}

/** An object whose listed members pass their checks (other members are ignored). */
export function obj(shape: Record<string, Check>): Check {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object');
    for (const [key, check] of Object.entries(shape))
      check((v as Record<string, unknown>)[key], p ? `${p}.${key}` : key);
  };
}
