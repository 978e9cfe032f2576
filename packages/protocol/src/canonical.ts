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
