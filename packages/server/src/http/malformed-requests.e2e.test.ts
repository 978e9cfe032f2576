import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawHttp } from '../test-support/http.js';
import { startTestApp, type TestApp } from '../test-support/test-app.js';
import { MAX_PARAM_LENGTH } from './limits.js';

const SHAPE = { code: expect.any(String), message: expect.any(String), requestId: expect.any(String) };

/** Every error, even one found before routing or while parsing HTTP, answers `{code, message, requestId}`. */
describe('malformed requests', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp();
    port = Number(new URL(t.url).port);
  });
  afterAll(() => t.dispose());

  const bodyOf = (text: string) => {
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['code', 'message', 'requestId']);
    return body;
  };

  it('answers a path parameter that is too long with 400, without echoing it', async () => {
    const long = 'a'.repeat(MAX_PARAM_LENGTH + 500);
    const answer = await rawHttp(
      port,
      `GET /api/v1/virtual-accounts/${long}/licenses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.ownerKey}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.status).toBe(400);
    const body = bodyOf(answer.body);
    expect(body).toMatchObject({ ...SHAPE, code: 'BAD_REQUEST' });
    expect(body.message).toBe(`A path parameter is too long (the limit is ${MAX_PARAM_LENGTH} characters).`);
  });

  it('answers a URL that is not valid percent-encoding with 400', async () => {
    const answer = await rawHttp(
      port,
      'GET /api/v1/virtual-accounts/%E0%A4%A/licenses HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(answer.status).toBe(400);
    expect(bodyOf(answer.body)).toMatchObject({ ...SHAPE, code: 'BAD_REQUEST' });
  });

  it('answers a bad request line, a bad Content-Length and oversized headers in the same shape, and closes', async () => {
    const cases: Array<[string, number, string]> = [
      ['GARBAGE\r\n\r\n', 400, 'The request is not valid HTTP.'],
      [
        'POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
        400,
        'The Content-Length header is not valid.',
      ],
      [
        'POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
        400,
        'The Transfer-Encoding header is not valid.',
      ],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'The request headers are too large.'],
    ];
    for (const [bytes, status, message] of cases) {
      const answer = await rawHttp(port, bytes);
      expect(answer.status, JSON.stringify(bytes.slice(0, 40))).toBe(status);
      expect(answer.headers).toMatch(/Content-Type: application\/json/i);
      expect(answer.headers).toMatch(/Connection: close/i);
      const body = bodyOf(answer.body);
      expect(body).toMatchObject({ ...SHAPE, code: 'BAD_REQUEST', message });
      expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers an unknown route with 404 NOT_FOUND, never echoing a huge path', async () => {
    const answer = await rawHttp(
      port,
      `GET /api/nothing/${'b'.repeat(5000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.status).toBe(404);
    const body = bodyOf(answer.body);
    expect(body).toMatchObject({ ...SHAPE, code: 'NOT_FOUND' });
    expect(String(body.message).length).toBeLessThan(300);
    const plain = await rawHttp(port, 'DELETE /api/v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(plain.status).toBe(404);
    expect(bodyOf(plain.body)).toMatchObject({
      code: 'NOT_FOUND',
      message: 'There is no route DELETE /api/v1/nothing.',
    });
  });
});
