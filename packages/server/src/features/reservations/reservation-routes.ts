import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byVa, place, placeLookup, target } from '../access/route-targets.js';
import {
  CreatedReservationAnswer,
  CreatePlrBody,
  CreateReservationBody,
  ReservationAnswer,
  ReservationCodeBody,
  ReservationSettingsBody,
  UpdateReservationBody,
} from './reservation-schemas.js';
import type { ReservationService } from './reservation-service.js';

/**
 * The VA of the product instance `:instanceId`, or of its reservation: a returned reservation's
 * instance is gone, yet a replayed return code must be answered "already used". Only the
 * reservation routes look there.
 */
const byReservedInstance = placeLookup('instanceId', 'Product instance', async (db, id) => {
  const instance = await db
    .selectFrom('instances')
    .innerJoin('virtual_accounts', 'virtual_accounts.id', 'instances.va_id')
    .select(['instances.va_id', 'virtual_accounts.account_id'])
    .where('instances.id', '=', id)
    .executeTakeFirst();
  if (instance) return place(instance.account_id, instance.va_id);
  const reserved = await db
    .selectFrom('reservations')
    .innerJoin('virtual_accounts', 'virtual_accounts.id', 'reservations.va_id')
    .select(['reservations.va_id', 'virtual_accounts.account_id'])
    .where('reservations.instance_id', '=', id)
    .executeTakeFirst();
  return reserved && place(reserved.account_id, reserved.va_id);
});

/**
 * Admin routes of license reservation (SPEC §7). SLR needs `write` on the VA; PLR (all
 * features, no counts) needs `admin` on the VA: it is its own route so that access control
 * can tell them apart.
 */
export function registerReservationRoutes(app: FastifyInstance, reservations: ReservationService): void {
  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/reservation-settings',
    {
      config: adminRoute('admin', target.va(byVa()), {
        summary: 'Allow (or forbid) license reservation in a VA',
        body: ReservationSettingsBody,
      }),
    },
    async (request) => {
      const body = parseInput(ReservationSettingsBody, request.body);
      return reservations.setAllowed(request.params.vaId, body.allowed, actorOf(request));
    },
  );

  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/reservation-settings',
    { config: adminRoute('read', target.va(byVa()), { summary: 'Whether a VA allows license reservation' }) },
    async (request) => reservations.getAllowed(request.params.vaId),
  );

  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/reservations',
    {
      config: adminRoute('write', target.va(byVa()), {
        summary: 'Reserve licenses (SLR) for the device of a request code; answers the authorization code',
        body: CreateReservationBody,
        response: CreatedReservationAnswer,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(CreateReservationBody, request.body);
      return reply.code(201).send(await reservations.create(request.params.vaId, body, actorOf(request)));
    },
  );

  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/reservations/plr',
    {
      config: adminRoute(
        'admin',
        target.va(byVa()),
        {
          summary: 'Permanent license reservation (PLR, all features) for the device of a request code',
          body: CreatePlrBody,
          response: CreatedReservationAnswer,
          status: 201,
        },
        'making a permanent license reservation',
      ),
    },
    async (request, reply) => {
      const body = parseInput(CreatePlrBody, request.body);
      const created = await reservations.create(request.params.vaId, { ...body, plr: true }, actorOf(request));
      return reply.code(201).send(created);
    },
  );

  app.post<{ Params: { instanceId: string } }>(
    '/api/v1/instances/:instanceId/reservation',
    {
      config: adminRoute('write', target.va(byReservedInstance), {
        summary: "Update a reservation's counts; answers the new authorization code",
        body: UpdateReservationBody,
      }),
    },
    async (request) => {
      const body = parseInput(UpdateReservationBody, request.body);
      return reservations.update(request.params.instanceId, body, actorOf(request));
    },
  );

  app.post<{ Params: { instanceId: string } }>(
    '/api/v1/instances/:instanceId/reservation/confirm',
    {
      config: adminRoute('write', target.va(byReservedInstance), {
        summary: 'Enter the confirmation code of an updated reservation',
        body: ReservationCodeBody,
        response: ReservationAnswer,
      }),
    },
    async (request) => {
      const body = parseInput(ReservationCodeBody, request.body);
      return reservations.confirm(request.params.instanceId, body.code, actorOf(request));
    },
  );

  app.post<{ Params: { instanceId: string } }>(
    '/api/v1/instances/:instanceId/reservation/return',
    {
      config: adminRoute('write', target.va(byReservedInstance), {
        summary: 'Remove a reservation with the return code: the counts go back to the pool',
        body: ReservationCodeBody,
        response: ReservationAnswer,
      }),
    },
    async (request) => {
      const body = parseInput(ReservationCodeBody, request.body);
      return reservations.returnReservation(request.params.instanceId, body.code, actorOf(request));
    },
  );
}
