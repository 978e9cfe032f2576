import { DEVICE_ROUTES } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import type { DeviceService } from './device-service.js';

/** The device endpoint: one POST route per message type; bodies and answers are signed envelopes. */
export function registerDeviceRoutes(app: FastifyInstance, device: DeviceService): void {
  app.post(DEVICE_ROUTES.register, async (request) => device.register(device.accept('register', request.body)));
  app.post(DEVICE_ROUTES.authorize, async (request) => device.authorize(device.accept('authorize', request.body)));
  app.post(DEVICE_ROUTES.renewId, async (request) => device.renewId(device.accept('renew-id', request.body)));
  app.post(DEVICE_ROUTES.deregister, async (request) => device.deregister(device.accept('deregister', request.body)));
}
