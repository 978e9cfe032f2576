import { DAY } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { authorizeResponse, registeredState, T0 } from '../testing/core-fixtures.js';
import { transition } from './transition.js';

describe('a renewed signing certificate in an authorization answer', () => {
  it('replaces the signing certificate on record, and only that', () => {
    const before = registeredState(T0);
    const at = T0 + 30 * DAY;
    const { state } = transition(
      before,
      {
        type: 'authorize-succeeded',
        response: authorizeResponse(at, 'InCompliance', DAY),
        requested: [{ tag: 'A', count: 1 }],
        renewedSigner: { pem: 'RENEWED-PEM', serial: '7a11ce' },
      },
      at,
      0,
    );
    expect(state.registration.certificate).toEqual({
      ...before.registration.certificate,
      signingCertPem: 'RENEWED-PEM',
      signingCertSerial: '7a11ce',
    });
    expect(state.authorization.grant?.compliance).toBe('InCompliance');
  });
});
