import type { EventPage } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, parseInteger, print, table, writeText } from '../../output.js';

interface ListOptions {
  va?: string;
  account?: string;
  system?: boolean;
  all?: boolean;
  type?: string;
  since?: string;
  until?: string;
  actor?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
}

/**
 * `admin event list`: the event log of a VA (or a whole Smart Account; for the owner key also
 * the system-wide events of no account, or everything), newest first. When
 * there are more events, the text output ends with `More: --cursor C` (with --json the same
 * line goes to stderr, so stdout stays one JSON array).
 */
export function eventCommands(connect: () => AdminConnection): Command {
  const event = new Command('event').description('the event log');
  event
    .command('list')
    .description('list events newest first (who, what, when)')
    .option('--va <id>', 'Virtual Account id')
    .option('--account <id>', 'Smart Account id (all its VAs), instead of --va')
    .option('--system', 'events of no Smart Account, e.g. refusals of owner-only routes (owner key only)')
    .option('--all', 'every event of every account and of none (owner key only)')
    .option('--type <type>', 'only this type (several: comma-separated), e.g. token.created')
    .option('--since <date>', 'events at or after this ISO-8601 date or time')
    .option('--until <date>', 'events before this ISO-8601 date or time')
    .option('--actor <actor>', 'e.g. user:ann@example.com, key:bootstrap admin, device:<instance id>, system')
    .option('--limit <n>', 'at most N events (1–500)', '50')
    .option('--cursor <cursor>', 'continue after the previous page (its "More: --cursor" value)')
    .option('--json', 'print JSON: [{at, actor, type, detail}]')
    .action(async (opts: ListOptions) => {
      const places = [opts.va, opts.account, opts.system, opts.all].filter((p) => p !== undefined && p !== false);
      if (places.length !== 1) throw new CliError('Give one of --va VA_ID, --account ACCOUNT_ID, --system or --all.');
      const query = new URLSearchParams();
      if (opts.system) query.set('scope', 'system');
      if (opts.type) query.set('type', opts.type);
      if (opts.since) query.set('since', opts.since);
      if (opts.until) query.set('until', opts.until);
      if (opts.actor) query.set('actor', opts.actor);
      query.set('limit', String(parseInteger(opts.limit ?? '50', '--limit', 1)));
      if (opts.cursor) query.set('cursor', opts.cursor);
      const path = opts.va
        ? `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/events`
        : opts.account
          ? `/api/v1/accounts/${encodeURIComponent(opts.account)}/events`
          : '/api/v1/events';
      const page = await adminRequest<EventPage>(connect(), 'GET', `${path}?${query}`);
      const rows = page.items.map(({ at, actor, type, detail }) => ({ at, actor, type, detail }));
      const more = page.nextCursor ? `More: --cursor ${page.nextCursor}` : '';
      print(rows, opts, (list) => {
        const text = table(
          ['AT', 'ACTOR', 'TYPE', 'DETAIL'],
          list.map((e) => [e.at, e.actor, e.type, JSON.stringify(e.detail)]),
        );
        return more ? `${text}\n${more}` : text;
      });
      if (opts.json && more) writeText(process.stderr, `${more}\n`);
    });
  return event;
}
