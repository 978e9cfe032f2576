import { MINUTE } from '@smartlic/protocol';
import { authorizeDevice } from './authorization/authorize-service.js';
import { convertDeviceLicenses } from './conversion/convert-service.js';
import { deregisterDevice } from './deregister/deregister-service.js';
import type { DeviceDeps } from './device-deps.js';
import { checkDeviceClock, type DeviceMessageType, type DeviceRequest, parseDeviceRequest } from './device-request.js';
import { purgeNonces } from './nonce-store.js';
import { registerDevice } from './registration/register-service.js';
import { renewIdCertificate } from './renew/renew-id-service.js';

/** How often (in clock time) forgotten nonces are purged. */
export const NONCE_PURGE_INTERVAL_MS = 10 * MINUTE;

/**
 * The device protocol. `accept` validates a message and the device's clock; the use cases
 * authenticate it, apply it in one transaction with its nonce, and sign the answer.
 */
export function createDeviceService(deps: DeviceDeps) {
  let lastPurgeAt = Number.NEGATIVE_INFINITY;

  /**
   * Nonces older than twice the clock tolerance can go: a replay of such a message is
   * refused by the timestamp check already. Runs as its own unit of work, at most once per
   * {@link NONCE_PURGE_INTERVAL_MS} of clock time, triggered by device traffic.
   */
  const purgeNoncesIfDue = (): void => {
    const now = deps.clock.now();
    if (now - lastPurgeAt < NONCE_PURGE_INTERVAL_MS) return;
    lastPurgeAt = now;
    const before = now - 2 * deps.clockToleranceMs;
    deps.transactor
      .run((trx) => purgeNonces(trx, before))
      .then(
        (count) => {
          if (count > 0) deps.logger?.debug({ count }, 'Purged old nonces');
        },
        (error: unknown) => deps.logger?.warn({ err: error }, 'Purging old nonces failed; will retry'),
      );
  };

  return {
    /** Validates a device message of `type` and its timestamp against our clock. */
    accept<T extends DeviceMessageType>(type: T, body: unknown): DeviceRequest<T> {
      const request = parseDeviceRequest(type, body);
      checkDeviceClock(request.payload.timestamp, deps.clock.now(), deps.clockToleranceMs);
      purgeNoncesIfDue();
      return request;
    },
    register: (request: DeviceRequest<'register'>) => registerDevice(deps, request),
    authorize: (request: DeviceRequest<'authorize'>) => authorizeDevice(deps, request),
    renewId: (request: DeviceRequest<'renew-id'>) => renewIdCertificate(deps, request),
    deregister: (request: DeviceRequest<'deregister'>) => deregisterDevice(deps, request),
    convert: (request: DeviceRequest<'convert'>) => convertDeviceLicenses(deps, request),
  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
