import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../test-support/http.js';
import { startTestApp, type TestApp } from '../test-support/test-app.js';
import { OPENAPI_PATH, toOpenApiPath } from './openapi.js';

interface Operation {
  summary: string;
  parameters?: Array<{ name: string; in: string }>;
  'x-smartlic-access'?: { action: string; scope: string };
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;

  beforeAll(async () => {
    t = await startTestApp();
    const answer = await sendJson<Document>(`${t.url}${OPENAPI_PATH}`);
    expect(answer.status).toBe(200);
    doc = answer.body;
  });
  afterAll(() => t.dispose());

  const documented = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

  it('is OpenAPI 3.1 and served without an API key', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route the server serves (add `doc` to the route config if this fails)', () => {
    const served = t.app.routeTable.map((r) => `${r.method} ${toOpenApiPath(r.url)}`);
    expect(served.length).toBeGreaterThan(20);
    const missing = served.filter((route) => !documented().includes(route));
    expect(missing, 'routes without an OpenAPI description').toEqual([]);
  });

  it('documents nothing the server does not serve', () => {
    for (const route of documented()) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/\{([^}]+)\}/g, ':$1');
      expect(t.app.hasRoute({ method: method as 'GET', url }), route).toBe(true);
    }
  });

  it('names each path parameter, and the access rule of every admin route', () => {
    for (const route of t.app.routeTable) {
      const op = doc.paths[toOpenApiPath(route.url)]?.[route.method.toLowerCase()];
      if (!op) continue;
      const inPath = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
      expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(inPath);
      expect(op.summary.length).toBeGreaterThan(0);
      if (route.url.startsWith('/api/v1/device/') || !route.access) continue;
      expect(op['x-smartlic-access']).toEqual(route.access);
    }
  });

  it('describes request bodies and answers from the zod schemas', () => {
    const createUser = doc.paths['/api/v1/users']?.post as unknown as {
      requestBody: {
        content: { 'application/json': { schema: { properties: Record<string, unknown>; required: string[] } } };
      };
      responses: Record<string, unknown>;
    };
    const schema = createUser.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(['email', 'accountId', 'role', 'vaId', 'password']);
    expect(schema.required).toEqual(['email', 'accountId', 'role']);
    expect(Object.keys(createUser.responses)).toContain('201');
  });
});
