import { authorizeDevice } from './authorization/authorize-service.js';
import { convertDeviceLicenses } from './conversion/convert-service.js';
import { deregisterDevice } from './deregister/deregister-service.js';
import type { DeviceDeps } from './device-deps.js';
import { checkDeviceClock, type DeviceMessageType, type DeviceRequest, parseDeviceRequest } from './device-request.js';
import { registerDevice } from './registration/register-service.js';
import { renewIdCertificate } from './renew/renew-id-service.js';

/**
 * The device protocol. `accept` validates a message and the device's clock; the use cases
 * authenticate it, apply it in one transaction with its nonce, and sign the answer. Old nonces
 * are purged by the background job runner (`jobs/server-jobs.ts`).
 */
export function createDeviceService(deps: DeviceDeps) {
  return {
    /** Validates a device message of `type` and its timestamp against our clock. */
    accept<T extends DeviceMessageType>(type: T, body: unknown): DeviceRequest<T> {
      const request = parseDeviceRequest(type, body);
      checkDeviceClock(request.payload.timestamp, deps.clock.now(), deps.clockToleranceMs);
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
