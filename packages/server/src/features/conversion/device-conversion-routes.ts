import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byVa, place, placeLookup, target } from '../access/route-targets.js';
import {
  ConversionSettingsBody,
  ConversionSettingsView,
  DeviceConversionQuery,
  DeviceConversionView,
  RejectConversionBody,
} from './device-conversion-schemas.js';
import type { DeviceConversionService } from './device-conversion-service.js';

/** The VA of the device conversion `:conversionId`. */
const byConversion = placeLookup('conversionId', 'Device conversion', async (db, id) => {
  const row = await db
    .selectFrom('device_conversion_requests')
    .select(['account_id', 'va_id'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && place(row.account_id, row.va_id);
});

/**
 * Admin routes of device-led conversion: a VA's settings (admins of the VA change them) and the
 * conversions devices reported, of which admins approve or reject the pending ones.
 */
export function registerDeviceConversionRoutes(app: FastifyInstance, conversions: DeviceConversionService): void {
  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/conversion-settings',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: "A VA's device-led conversion settings (mode and caps)",
        response: ConversionSettingsView,
      }),
    },
    async (request) => conversions.getSettings(request.params.vaId),
  );

  app.patch<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/conversion-settings',
    {
      config: adminRoute(
        'admin',
        target.va(byVa()),
        {
          summary: 'Turn device-led conversion on, off or to review, and set its caps (what the body names changes)',
          body: ConversionSettingsBody,
          response: ConversionSettingsView,
        },
        'changing the device-led conversion settings',
      ),
    },
    async (request) => {
      const body = parseInput(ConversionSettingsBody, request.body ?? {});
      return conversions.setSettings(request.params.vaId, body, actorOf(request));
    },
  );

  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/device-conversions',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: "A VA's device-led conversions (?status=pending|approved|rejected), oldest first",
        query: DeviceConversionQuery,
        response: DeviceConversionView.array(),
      }),
    },
    async (request) => {
      const query = parseInput(DeviceConversionQuery, request.query ?? {});
      return conversions.list(request.params.vaId, query.status);
    },
  );

  app.post<{ Params: { conversionId: string } }>(
    '/api/v1/device-conversions/:conversionId/approve',
    {
      config: adminRoute(
        'admin',
        target.va(byConversion),
        {
          summary: 'Approve a pending device-led conversion: its licenses are deposited',
          response: DeviceConversionView,
        },
        'approving device conversions',
      ),
    },
    async (request) => conversions.approve(request.params.conversionId, actorOf(request)),
  );

  app.post<{ Params: { conversionId: string } }>(
    '/api/v1/device-conversions/:conversionId/reject',
    {
      config: adminRoute(
        'admin',
        target.va(byConversion),
        {
          summary: 'Reject a pending device-led conversion: nothing is deposited',
          body: RejectConversionBody,
          response: DeviceConversionView,
        },
        'rejecting device conversions',
      ),
    },
    async (request) => {
      const body = parseInput(RejectConversionBody, request.body ?? {});
      return conversions.reject(request.params.conversionId, actorOf(request), body.note);
    },
  );
}
