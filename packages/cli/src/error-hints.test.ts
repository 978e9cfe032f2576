import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERRORS, SmartlicError } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest } from './admin-client.js';
import { errorHint } from './error-hints.js';
import { describeError } from './output.js';

describe('CLI hints on error codes', () => {
  it('keeps the protocol messages free of CLI commands and flags (SDK hosts read them)', () => {
    for (const [code, { message }] of Object.entries(ERRORS)) {
      expect(message, code).not.toMatch(/smartlic |--[a-z]|SMARTLIC_/);
    }
  });

  it('appends the command to run to a device error', () => {
    expect(describeError(new SmartlicError('NOT_INITIALISED'))).toBe(
      'This device is not initialised. Run `smartlic device init --pid PID` first.',
    );
    expect(describeError(new SmartlicError('ALREADY_REGISTERED'))).toBe('Product Already Registered');
    expect(errorHint('TRANSPORT_NOT_AVAILABLE')).toBeUndefined();
  });

  describe('on answers of the admin API', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((request, response) => {
        const code = request.url?.includes('reservation') ? 'RESERVATION_NOT_ALLOWED' : 'UNAUTHENTICATED';
        response.writeHead(ERRORS[code].status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ code, message: ERRORS[code].message, requestId: 'r1' }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('names the reservation command with the Virtual Account of the call', async () => {
      await expect(
        adminRequest({ server: url, apiKey: 'k' }, 'POST', '/api/v1/virtual-accounts/lab%201/reservations', {}),
      ).rejects.toThrow(
        'License reservation is not allowed in this Virtual Account. An owner or an admin of the Virtual Account can allow it: smartlic admin reservation allow --va lab 1',
      );
    });

    it('tells how to pass an API key', async () => {
      await expect(adminRequest({ server: url, apiKey: 'k' }, 'GET', '/api/v1/accounts')).rejects.toThrow(
        'An API key is required. Pass a valid API key with --api-key KEY or set SMARTLIC_API_KEY.',
      );
    });
  });
});
