import { readFileSync } from 'node:fs';
import type { ConversionView, PakView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, parseInteger, print, table } from '../../output.js';
import { resolvePak } from '../../resolve.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `SKU:TAG:QTY[:TYPE[:ENDS]]` → a SKU of the import body. */
export function parseSkuSpec(spec: string): Record<string, unknown> {
  const [sku, tag, qty, type, ends] = spec.split(':');
  if (!sku || !tag || !qty) throw new CliError(`--sku must be SKU:TAG:QUANTITY[:TYPE[:ENDS]], not "${spec}".`);
  return {
    sku,
    tag,
    quantity: parseInteger(qty, '--sku quantity', 1),
    ...(type ? { type } : {}),
    ...(ends ? { endsAt: ends } : {}),
  };
}

/** `SKU:QTY` → a conversion line. */
export function parseLineSpec(spec: string): { sku: string; quantity: number } {
  const at = spec.lastIndexOf(':');
  if (at <= 0) throw new CliError(`--sku must be SKU:QUANTITY, not "${spec}".`);
  return { sku: spec.slice(0, at), quantity: parseInteger(spec.slice(at + 1), '--sku quantity', 1) };
}

function pakTable(paks: PakView[]): string {
  if (paks.length === 0) return 'No PAKs in this Smart Account.';
  return table(
    ['PAK', 'ID', 'ORDER', 'PARTIAL', 'STATUS', 'SKU', 'LICENSE', 'QUANTITY', 'CONVERTIBLE'],
    paks.flatMap((p) =>
      p.skus.map((s) => [
        p.number,
        p.id,
        p.orderNumber ?? '',
        p.partialFulfilment ? 'yes' : 'no',
        p.status,
        s.sku,
        s.tag,
        s.quantity,
        s.convertible,
      ]),
    ),
  );
}

/** `admin pak import|list|convert|history`: PAKs and their conversion ("Convert to Smart Licensing"). */
export function pakCommands(connect: () => AdminConnection): Command {
  const pak = new Command('pak').description('PAKs (legacy licenses) and their conversion to smart licenses');
  pak
    .command('import')
    .description('import a PAK into a Smart Account, from a JSON file or flags')
    .requiredOption('--account <id>', 'Smart Account id')
    .option(
      '--file <path>',
      'JSON: {number, orderNumber?, partialFulfilment?, skus: [{sku, tag, name?, quantity, type?, endsAt?}]}',
    )
    .option('--number <pak>', 'PAK number')
    .option('--order <number>', 'order number')
    .option('--no-partial', 'the PAK converts whole or not at all')
    .option('--sku <SKU:TAG:QTY[:TYPE[:ENDS]]>', 'a SKU (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        account: string;
        file?: string;
        number?: string;
        order?: string;
        partial: boolean;
        sku?: string[];
        json?: boolean;
      }) => {
        let body: unknown;
        if (opts.file) {
          try {
            body = JSON.parse(readFileSync(opts.file, 'utf8'));
          } catch (error) {
            throw new CliError(`Cannot read the PAK file ${opts.file}: ${(error as Error).message}`);
          }
        } else {
          if (!opts.number || !opts.sku?.length)
            throw new CliError('Give --file PATH, or --number PAK and at least one --sku.');
          body = {
            number: opts.number,
            ...(opts.order ? { orderNumber: opts.order } : {}),
            partialFulfilment: opts.partial,
            skus: opts.sku.map(parseSkuSpec),
          };
        }
        const created = await adminRequest<PakView>(
          connect(),
          'POST',
          `/api/v1/accounts/${encodeURIComponent(opts.account)}/paks`,
          body,
        );
        print(created, opts, (p) => `Imported PAK ${p.number} (${p.id}) with ${p.skus.length} SKU(s)`);
      },
    );
  pak
    .command('list')
    .description("a Smart Account's PAKs with what is still convertible")
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; json?: boolean }) => {
      const paks = await adminRequest<PakView[]>(
        connect(),
        'GET',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/paks`,
      );
      print(paks, opts, pakTable);
    });
  pak
    .command('convert')
    .description('convert a PAK (all of it, or --sku lines) into license pools of a Virtual Account')
    .argument('<pak>', 'PAK id, or its number as pak list shows it')
    .requiredOption('--va <id>', 'destination Virtual Account id')
    .option('--sku <SKU:QTY>', 'convert QTY of SKU (repeatable); default: everything convertible', collect)
    .option('--json', 'print JSON')
    .action(async (pakId: string, opts: { va: string; sku?: string[]; json?: boolean }) => {
      const lines = opts.sku?.map(parseLineSpec);
      const id = await resolvePak(connect(), pakId);
      const after = await adminRequest<PakView>(connect(), 'POST', `/api/v1/paks/${encodeURIComponent(id)}/convert`, {
        vaId: opts.va,
        ...(lines ? { lines } : {}),
      });
      print(after, opts, (p) => `PAK ${p.number}: ${p.status}\n${pakTable([p])}`);
    });
  pak
    .command('history')
    .description("a Smart Account's conversion history (PAK and device-led)")
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; json?: boolean }) => {
      const rows = await adminRequest<ConversionView[]>(
        connect(),
        'GET',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/conversions`,
      );
      print(rows, opts, (list) =>
        list.length === 0
          ? 'No conversions in this Smart Account.'
          : table(
              ['AT', 'FROM', 'LICENSE', 'QUANTITY', 'VA', 'BY'],
              list.map((c) => [
                c.at,
                c.kind === 'pak'
                  ? `PAK ${c.pakNumber ?? ''} ${c.sku ?? ''}`
                  : `device ${c.udi ?? ''} ${c.legacyId ?? ''}`,
                c.tag,
                c.quantity,
                c.vaId,
                c.actor,
              ]),
            ),
      );
    });
  return pak;
}
