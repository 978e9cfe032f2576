/**
 * The canonical byte form that signatures cover: JSON with object keys sorted by code
 * unit, no white space, `undefined` members left out, and only finite numbers. Two
 * parties that hold equal values always produce equal bytes.
 */
export function canonicalize(value: unknown): string {
  return write(value);
}

/** {@link canonicalize} as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(write(value), 'utf8');
}

function write(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical form has no representation for non-finite numbers');
      return JSON.stringify(value);
    case 'object': {
      // A subtree already in canonical order (a large sync document's rows are built so) is
      // written by the engine's JSON.stringify, which then gives the same bytes far faster.
      if (inCanonicalOrder(value, 0)) return JSON.stringify(value);
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : write(v))).join(',')}]`;
      const keys = Object.keys(value as object).sort();
      const parts: string[] = [];
      for (const key of keys) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${write(member)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical form has no representation for ${typeof value}`);
  }
}

/**
 * Whether JSON.stringify writes `value` exactly as {@link write} would: plain objects with keys
 * already in code-unit order and no `toJSON`, dense arrays, and only strings, booleans, null,
 * finite numbers and `undefined` members (left out by both) within. Gives up past a small depth.
 */
function inCanonicalOrder(value: unknown, depth: number): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (depth > 8) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return false;
      const item = value[i];
      if (item !== undefined && !inCanonicalOrder(item, depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  let previous: string | undefined;
  for (const key in value as object) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    const member = (value as Record<string, unknown>)[key];
    if (key === 'toJSON' && typeof member === 'function') return false;
    if (member !== undefined && !inCanonicalOrder(member, depth + 1)) return false;
  }
  return true;
}
