import type { FastifyRequest } from 'fastify';
import { actorOfPrincipal } from '../features/api-keys/api-key-service.js';
import type { Actor } from '../features/events/event-recorder.js';

/** The event-log actor of an admin request: `user:<email>`, or `key:<name>` for the owner key. */
export function actorOf(request: FastifyRequest): Actor {
  return actorOfPrincipal(request.principal);
}
