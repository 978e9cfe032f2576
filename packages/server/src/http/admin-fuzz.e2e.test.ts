import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Engine } from '../storage/database.js';
import { type FuzzCase, ignoreKeyUses, sendCases, snapshotTables } from '../test-support/fuzz.js';
import { sendJson } from '../test-support/http.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { OPENAPI_PATH } from './openapi.js';

/**
 * The admin API fuzzed from its own OpenAPI document: for every documented admin route,
 * requests whose body, query or path violate the route's schema (wrong types, missing required
 * members, huge strings, deep nesting, prototype-pollution keys, unknown ids), sent with the
 * owner key. Each is answered 4xx with the `{code, message, requestId}` body; none changes the
 * database or pollutes `Object.prototype` (the server runs in this process). Fixed seed.
 */

const SEED = 20261207;
const RUNS = 4000;
/** PostgreSQL gets a quarter of the cases: the schema checks are the same code on both engines; what it adds is its own tables left unchanged. */
const runsOn = (engine: Engine) => (engine === 'postgres' ? RUNS / 4 : RUNS);
const TAG = 'regid.2014-08.com.example.A';

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  maxLength?: number;
  minLength?: number;
  maximum?: number;
  minimum?: number;
  exclusiveMaximum?: number;
  exclusiveMinimum?: number;
  maxItems?: number;
  items?: JsonSchema;
}
interface Parameter {
  name: string;
  in: 'path' | 'query';
  required?: boolean;
  schema: JsonSchema;
}
interface Route {
  method: string;
  path: string;
  params: string[];
  query: Parameter[];
  body: JsonSchema | undefined;
}

const POLLUTION: Array<[string, unknown]> = [
  ['__proto__', { polluted: true, isAdmin: true }],
  ['constructor', { prototype: { polluted: true } }],
  ['prototype', { polluted: true }],
];

/** JSON text of arrays and objects nested `depth` deep, an array outermost (built as text: no deep recursion here). */
const nestedText = (depth: number): string => {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '[' : '{"a":';
    close = (i % 2 === 0 ? ']' : '}') + close;
  }
  return `${open}"x"${close}`;
};

const nested = (depth: number): unknown => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
};

/** JSON text of an object with the given members, `__proto__` included as an own member. */
const objectText = (members: Array<[string, unknown]>): string =>
  `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;

/** A value of the right type for `schema` (not necessarily valid otherwise). */
const sampleFor = (schema: JsonSchema): unknown => {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? (schema.exclusiveMinimum === undefined ? 1 : schema.exclusiveMinimum + 1);
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
  }
};

/** Values just past one bound of `schema` (too long, too many, above the maximum, …). */
const outOfBounds = (schema: JsonSchema): unknown[] => {
  const values: unknown[] = [];
  if (schema.type === 'string' && schema.maxLength !== undefined && schema.maxLength < 60_000) {
    values.push('x'.repeat(schema.maxLength + 1));
  }
  if (schema.type === 'string' && (schema.minLength ?? 0) > 0) values.push('');
  if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) values.push(schema.maximum + 1);
  if (schema.exclusiveMaximum !== undefined) values.push(schema.exclusiveMaximum);
  if (schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER) values.push(schema.minimum - 1);
  if (schema.exclusiveMinimum !== undefined) values.push(schema.exclusiveMinimum);
  if (schema.type === 'array' && schema.maxItems !== undefined && schema.maxItems < 2000) {
    values.push(Array.from({ length: schema.maxItems + 1 }, () => sampleFor(schema.items ?? {})));
  }
  return values;
};

/** A value that no schema of `type` accepts. */
const wrongFor = (schema: JsonSchema): fc.Arbitrary<unknown> => {
  const type = Array.isArray(schema.type) ? undefined : schema.type;
  const others: Array<fc.Arbitrary<unknown>> = [];
  if (schema.enum || schema.const !== undefined) others.push(fc.string().map((s) => `\u0000zz${s}`));
  if (type !== 'string' && !schema.enum && schema.const === undefined) others.push(fc.string({ unit: 'grapheme' }));
  if (type !== 'number' && type !== 'integer') others.push(fc.double({ noNaN: true }));
  if (type === 'integer') others.push(fc.double({ min: 0.1, max: 0.9, noNaN: true }));
  if (type !== 'boolean') others.push(fc.boolean());
  if (type !== 'array')
    others.push(fc.array(fc.integer(), { maxLength: 3 }), fc.integer({ min: 20, max: 200 }).map(nested));
  if (type !== 'object') others.push(fc.constant({ __proto__: null, a: 1 }));
  return fc.oneof(...others);
};

describeEachEngine('the admin API fuzzed from its OpenAPI document', (engine) => {
  let t: TestServer;
  let routes: Route[];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestServer({ engine, rateLimits: 'off' });
    const { accountId, vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: TAG, count: 5 });
    const token = await t.admin.createToken(vaId);
    const device = t.device();
    expect((await device.register(token.token)).status).toBe(200);
    const user = await t.admin.ok<{ id: string; keyId: string }>('POST', '/api/v1/users', {
      email: 'viewer@acme.example',
      accountId,
      role: 'viewer',
      vaId,
    });
    Object.assign(ids, {
      accountId,
      vaId,
      tokenId: token.id,
      instanceId: device.instanceId!,
      userId: user.id,
      keyId: user.keyId,
    });
    const document = (
      await sendJson<{ paths: Record<string, Record<string, Record<string, unknown>>> }>(`${t.url}${OPENAPI_PATH}`)
    ).body;
    routes = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        if (!op.security) continue;
        const parameters = (op.parameters ?? []) as Parameter[];
        const body = (op.requestBody as { content: Record<string, { schema: JsonSchema }> } | undefined)?.content[
          'application/json'
        ]?.schema;
        routes.push({
          method: method.toUpperCase(),
          path,
          params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
          query: parameters.filter((p) => p.in === 'query'),
          body,
        });
      }
    }
  });
  afterAll(async () => {
    await t?.dispose();
  });

  /** The route's path with real ids (an unknown one where no fixture has that kind of id). */
  const realPath = (route: Route, replace: Record<string, string> = {}) =>
    route.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) =>
      encodeURIComponent(
        replace[name] ?? ids[name] ?? (name === 'kind' ? 'usage' : '00000000-0000-4000-8000-000000000000'),
      ),
    );
  /** Query with every required parameter set to a plausible value. */
  const baseQuery = (route: Route): Record<string, string> =>
    Object.fromEntries(route.query.filter((q) => q.required).map((q) => [q.name, ids[q.name] ?? 'x']));
  const withQuery = (path: string, query: Record<string, string>) => {
    const search = new URLSearchParams(query).toString();
    return search ? `${path}?${search}` : path;
  };

  const caseFor = (route: Route): fc.Arbitrary<FuzzCase> => {
    const label = `${route.method} ${route.path}`;
    const make = (kind: string, path: string, body?: string): FuzzCase => ({
      label: `${label} ${kind}`,
      method: route.method,
      route: path,
      ...(body === undefined ? {} : { body }),
    });
    const options: Array<fc.Arbitrary<FuzzCase>> = [];
    if (route.params.length > 0) {
      options.push(
        fc
          .tuple(
            fc.constantFrom(...route.params),
            fc.oneof(
              fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
              fc.string({ unit: 'binary', minLength: 101, maxLength: 400 }),
              fc.constantFrom('__proto__', 'constructor', "1' OR '1'='1", '%00', 'null', '-1'),
            ),
          )
          .map(([param, value]) =>
            make(
              `with ${param} = ${JSON.stringify(value).slice(0, 40)}`,
              withQuery(realPath(route, { [param]: `zz${value}` }), baseQuery(route)),
              route.body ? '{}' : undefined,
            ),
          ),
      );
    }
    for (const q of route.query) {
      const schema = q.schema;
      const typed = schema.type === 'integer' || schema.type === 'number' || schema.type === 'boolean' || schema.enum;
      if (typed) {
        options.push(
          fc
            .oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('1e999', 'NaN', '-', '__proto__'))
            .map((v) => `zz${v}`)
            .map((v) =>
              make(`with query ${q.name} = ${v}`, withQuery(realPath(route), { ...baseQuery(route), [q.name]: v })),
            ),
        );
      }
      if (q.required) {
        const { [q.name]: _gone, ...rest } = baseQuery(route);
        options.push(fc.constant(make(`without query ${q.name}`, withQuery(realPath(route), rest))));
      }
    }
    const body = route.body;
    if (body) {
      const path = withQuery(realPath(route), baseQuery(route));
      options.push(
        fc
          .oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.string(), fc.double({ noNaN: true }), fc.boolean())
          .map((value) => make(`with body ${JSON.stringify(value).slice(0, 40)}`, path, JSON.stringify(value))),
        fc
          .integer({ min: 100, max: 5000 })
          .map((depth) => make(`with a body nested ${depth} deep`, path, nestedText(depth))),
      );
      const required = body.required ?? [];
      const properties = Object.entries(body.properties ?? {});
      if (required.length > 0) {
        options.push(
          fc
            .tuple(fc.constantFrom(...required), fc.subarray(POLLUTION, { minLength: 1 }))
            .map(([missing, pollution]) =>
              make(`without ${missing}, with ${pollution.map(([k]) => k).join(', ')}`, path, objectText(pollution)),
            ),
        );
      }
      // Every required member present with a value of its type, so that the one violation is not the only error by luck.
      const base = properties
        .filter(([name]) => required.includes(name))
        .map(([name, schema]): [string, unknown] => [name, sampleFor(schema)]);
      const withMember = (name: string, value: unknown, extra: Array<[string, unknown]> = []) =>
        objectText([...base.filter(([n]) => n !== name), ...extra, [name, value]]);
      // Wrong types only where the schema names one type: a value of another type is surely refused.
      const typed = properties.filter(([, s]) => typeof s.type === 'string' || s.enum || s.const !== undefined);
      if (typed.length > 0) {
        const schemas = Object.fromEntries(typed);
        options.push(
          fc
            .constantFrom(...typed.map(([n]) => n))
            .chain((name) => wrongFor(schemas[name]!).map((value): [string, unknown] => [name, value]))
            .chain(([name, value]) =>
              fc
                .subarray(POLLUTION)
                .map((pollution) =>
                  make(
                    `with ${name} = ${JSON.stringify(value)?.slice(0, 40)}`,
                    path,
                    withMember(name, value, pollution),
                  ),
                ),
            ),
        );
      }
      const bounds = properties.flatMap(([name, schema]) => outOfBounds(schema).map((value) => [name, value] as const));
      if (bounds.length > 0) {
        options.push(
          fc
            .constantFrom(...bounds)
            .map(([name, value]) =>
              make(`with ${name} out of bounds: ${JSON.stringify(value).slice(0, 40)}`, path, withMember(name, value)),
            ),
        );
      }
      if (properties.length > 0) {
        const strings = properties.filter(([, s]) => s.type === 'string');
        if (strings.length > 0) {
          options.push(
            fc
              .tuple(fc.constantFrom(...strings.map(([n]) => n)), fc.integer({ min: 70_000, max: 300_000 }))
              .map(([name, size]) =>
                make(`with ${name} of ${size} characters`, path, objectText([[name, 'x'.repeat(size)]])),
              ),
          );
        }
      }
    }
    if (options.length === 0) {
      // A route with nothing to violate but its query: an unknown query member is ignored, so test an unknown path below it.
      options.push(fc.constant(make('below its path', `${realPath(route)}/zz-unknown`)));
    }
    return fc.oneof(...options);
  };

  it('refuses every schema-violating request with 4xx and the error body, and changes nothing', async () => {
    expect(routes.length).toBeGreaterThan(30);
    const cases = fc.sample(
      fc.constantFrom(...routes).chain((route) => caseFor(route)),
      { seed: SEED, numRuns: runsOn(engine) },
    );
    const covered = new Set(cases.map((c) => c.label.split(' ').slice(0, 2).join(' ')));
    expect(routes.filter((r) => !covered.has(`${r.method} ${r.path}`)).map((r) => r.path)).toEqual([]);
    for (const kind of ['out of bounds', 'without', ' = ', 'characters', 'nested']) {
      expect(cases.filter((c) => c.label.includes(kind)).length, kind).toBeGreaterThan((30 * runsOn(engine)) / RUNS);
    }
    const before = await t.inspect((db) => snapshotTables(db, ignoreKeyUses));
    expect(before, 'the snapshot sees the server’s rows').toContain(ids.instanceId);
    const { wrong } = await sendCases(t.url, cases, { authorization: `Bearer ${t.admin.apiKey}` }, 8);
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(
      (await t.inspect((db) => snapshotTables(db, ignoreKeyUses))) === before,
      'a refused request changed the database',
    ).toBe(true);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);
});
