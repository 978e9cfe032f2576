import {
  AuthorizeRequest,
  AuthorizeResponse,
  type ComplianceStatus,
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
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { RateLimiter } from '../../http/rate-limits.js';
import { publicRoute } from '../../http/route-config.js';
import type { SignedAnswer } from '../pki/response-signer.js';
import type { DeviceService } from './device-service.js';

/** The OpenAPI description of a device route: signed envelopes around the protocol's messages. */
function deviceDoc(summary: string, request: z.ZodType, response: z.ZodType) {
  return publicRoute({
    summary,
    body: Envelope.extend({ payload: request }),
    response: Envelope.extend({ payload: response }),
  });
}

/** Sends a signed answer as written once, from the canonical form the signature covers: not serialised again. */
function sendSigned(reply: FastifyReply, answer: SignedAnswer<unknown>): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(answer.json);
}

/** Told of outcomes the metrics count. */
export interface DeviceObserver {
  /** A successful authorization, with the instance's overall compliance status. */
  authorized(status: ComplianceStatus): void;
}

/**
 * The device endpoint: one POST route per message type; bodies and answers are signed envelopes.
 * Registration is limited per address and per token, the other messages per product instance.
 */
export function registerDeviceRoutes(
  app: FastifyInstance,
  device: DeviceService,
  limits: RateLimiter,
  observe: DeviceObserver,
): void {
  const perInstance = { preHandler: limits.device };
  app.post(
    DEVICE_ROUTES.register,
    {
      config: deviceDoc('Register a product instance with a token', RegisterRequest, RegisterResponse),
      preHandler: limits.register,
    },
    async (request, reply) => {
      const answer = await device.register(device.accept('register', request.body));
      return sendSigned(reply, answer);
    },
  );
  app.post(
    DEVICE_ROUTES.authorize,
    { config: deviceDoc('Authorize entitlement usage', AuthorizeRequest, AuthorizeResponse), ...perInstance },
    async (request, reply) => {
      const answer = await device.authorize(device.accept('authorize', request.body));
      observe.authorized(answer.envelope.payload.status);
      return sendSigned(reply, answer);
    },
  );
  app.post(
    DEVICE_ROUTES.renewId,
    { config: deviceDoc('Renew the ID certificate', RenewIdRequest, RenewIdResponse), ...perInstance },
    async (request) => device.renewId(device.accept('renew-id', request.body)),
  );
  app.post(
    DEVICE_ROUTES.deregister,
    { config: deviceDoc('Deregister the instance', DeregisterRequest, DeregisterResponse), ...perInstance },
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
      ...perInstance,
    },
    async (request) => device.convert(device.accept('convert', request.body)),
  );
}
