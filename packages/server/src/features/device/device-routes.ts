import {
  AuthorizeRequest,
  AuthorizeResponse,
  ConvertRequest,
  ConvertResponse,
  DEVICE_ROUTES,
  DeregisterRequest,
  DeregisterResponse,
  Envelope,
  RegisterRequest,
  RegisterResponse,
  RenewIdRequest,
  RenewIdResponse,
} from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { publicRoute } from '../../http/route-config.js';
import type { DeviceService } from './device-service.js';

/** The OpenAPI description of a device route: signed envelopes around the protocol's messages. */
function deviceDoc(summary: string, request: z.ZodType, response: z.ZodType) {
  return publicRoute({
    summary,
    body: Envelope.extend({ payload: request }),
    response: Envelope.extend({ payload: response }),
  });
}

/** The device endpoint: one POST route per message type; bodies and answers are signed envelopes. */
export function registerDeviceRoutes(app: FastifyInstance, device: DeviceService): void {
  app.post(
    DEVICE_ROUTES.register,
    { config: deviceDoc('Register a product instance with a token', RegisterRequest, RegisterResponse) },
    async (request) => device.register(device.accept('register', request.body)),
  );
  app.post(
    DEVICE_ROUTES.authorize,
    { config: deviceDoc('Authorize entitlement usage', AuthorizeRequest, AuthorizeResponse) },
    async (request) => device.authorize(device.accept('authorize', request.body)),
  );
  app.post(
    DEVICE_ROUTES.renewId,
    { config: deviceDoc('Renew the ID certificate', RenewIdRequest, RenewIdResponse) },
    async (request) => device.renewId(device.accept('renew-id', request.body)),
  );
  app.post(
    DEVICE_ROUTES.deregister,
    { config: deviceDoc('Deregister the instance', DeregisterRequest, DeregisterResponse) },
    async (request) => device.deregister(device.accept('deregister', request.body)),
  );
  app.post(
    DEVICE_ROUTES.convert,
    {
      config: deviceDoc(
        'Device-led conversion: deposit the legacy licenses the device holds, once',
        ConvertRequest,
        ConvertResponse,
      ),
    },
    async (request) => device.convert(device.accept('convert', request.body)),
  );
}
