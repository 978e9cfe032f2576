import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byAccount, place, placeLookup, target } from '../access/route-targets.js';
import { ConvertPakBody, ImportPakBody } from './pak-schemas.js';
import type { PakService } from './pak-service.js';

/** The Smart Account of the PAK `:pakId`. */
const byPak = placeLookup('pakId', 'PAK', async (db, id) => {
  const row = await db.selectFrom('paks').select('account_id').where('id', '=', id).executeTakeFirst();
  return row && place(row.account_id);
});

/** Admin routes of PAKs and the conversion history ("Convert to Smart Licensing"). */
export function registerPakRoutes(app: FastifyInstance, paks: PakService): void {
  app.post<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/paks',
    {
      config: adminRoute('write', target.account(byAccount()), {
        summary: 'Import a PAK into a Smart Account',
        body: ImportPakBody,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(ImportPakBody, request.body);
      return reply.code(201).send(await paks.importPak(request.params.accountId, body, actorOf(request)));
    },
  );

  app.get<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/paks',
    {
      config: adminRoute('read', target.account(byAccount()), {
        summary: "List a Smart Account's PAKs with their convertible quantities",
      }),
    },
    async (request) => paks.listPaks(request.params.accountId),
  );

  app.post<{ Params: { pakId: string } }>(
    '/api/v1/paks/:pakId/convert',
    {
      config: adminRoute('write', target.account(byPak), {
        summary: 'Convert all (no lines) or part of a PAK into license pools of a VA',
        body: ConvertPakBody,
      }),
    },
    async (request) => {
      const body = parseInput(ConvertPakBody, request.body);
      return paks.convertPak(request.params.pakId, body, actorOf(request));
    },
  );

  app.get<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/conversions',
    { config: adminRoute('read', target.account(byAccount()), { summary: 'Conversion history (PAK and device-led)' }) },
    async (request) => paks.listConversions(request.params.accountId),
  );
}
