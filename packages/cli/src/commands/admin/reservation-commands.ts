import { readFile, writeFile } from 'node:fs/promises';
import { authorizationCodeFile } from '@smartlic/protocol';
import type { CreatedReservationAnswer, ReservationAnswer, ReservationService } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, print } from '../../output.js';

type ReservationSettings = Awaited<ReturnType<ReservationService['setAllowed']>>;
type UpdatedReservation = Awaited<ReturnType<ReservationService['update']>>;

/** `--license TAG:COUNT`, repeatable; the count follows the last colon. */
function collectLicense(
  value: string,
  previous: { tag: string; count: number }[] = [],
): { tag: string; count: number }[] {
  const at = value.lastIndexOf(':');
  const tag = value.slice(0, at).trim();
  const count = value.slice(at + 1).trim();
  if (at <= 0 || !/^\d+$/.test(count) || Number(count) < 1) {
    throw new CliError(`--license must be TAG:COUNT with a count of at least 1, not "${value}".`);
  }
  return [...previous, { tag, count: Number(count) }];
}

/** A code given on the command line, or read from a file when written `@FILE`. */
async function codeArgument(value: string, what: string): Promise<string> {
  if (!value.startsWith('@')) return value;
  return readFile(value.slice(1), 'utf8').catch(() => {
    throw new CliError(`Cannot read the ${what} file ${value.slice(1)}.`);
  });
}

async function writeCode(path: string | undefined, code: string): Promise<void> {
  if (!path) return;
  await writeFile(path, authorizationCodeFile(code), { mode: 0o600 }).catch((error: Error) => {
    throw new CliError(`Cannot write the authorization code to ${path}: ${error.message}`);
  });
}

const codeText = (code: string, out: string | undefined): string =>
  `Authorization code${out ? ` (also written to ${out})` : ''}; install it on the device with \`license smart reservation install\`:\n${code}`;

/** `admin reservation allow|create|update|confirm|return` (SPEC §9). */
export function reservationCommands(connect: () => AdminConnection): Command {
  const reservation = new Command('reservation').description('offline license reservation (SLR and PLR)');
  reservation
    .command('allow')
    .description('allow license reservation in a Virtual Account')
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--disallow', 'forbid it instead')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; disallow?: boolean; json?: boolean }) => {
      const answer = await adminRequest<ReservationSettings>(
        connect(),
        'POST',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/reservation-settings`,
        { allowed: !opts.disallow },
      );
      print(answer, opts, (a) => `License reservation is ${a.allowed ? 'allowed' : 'not allowed'} in ${a.vaId}.`);
    });
  reservation
    .command('create')
    .description('reserve licenses for the device of a request code (SLR), or all features (--plr)')
    .requiredOption('--va <id>', 'Virtual Account id')
    .requiredOption('--request-code <code>', 'the request code the device printed (or @FILE)')
    .option('--license <tag:count>', 'a tag and count to reserve (repeatable)', collectLicense)
    .option('--plr', 'permanent license reservation: all features, no counts')
    .option('--out <file>', 'also write the authorization code to FILE')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        va: string;
        requestCode: string;
        license?: { tag: string; count: number }[];
        plr?: boolean;
        out?: string;
        json?: boolean;
      }) => {
        if (opts.plr && opts.license) throw new CliError('Give either --license TAG:COUNT or --plr, not both.');
        if (!opts.plr && !opts.license)
          throw new CliError('Name what to reserve: --license TAG:COUNT (repeatable) or --plr.');
        const requestCode = await codeArgument(opts.requestCode, 'request code');
        const va = encodeURIComponent(opts.va);
        const created = opts.plr
          ? await adminRequest<CreatedReservationAnswer>(
              connect(),
              'POST',
              `/api/v1/virtual-accounts/${va}/reservations/plr`,
              {
                requestCode,
              },
            )
          : await adminRequest<CreatedReservationAnswer>(
              connect(),
              'POST',
              `/api/v1/virtual-accounts/${va}/reservations`,
              {
                requestCode,
                licenses: opts.license,
              },
            );
        await writeCode(opts.out, created.authorizationCode);
        print(
          created,
          opts,
          (c) => `Reservation ${c.id} (product instance ${c.instanceId}).\n${codeText(c.authorizationCode, opts.out)}`,
        );
      },
    );
  reservation
    .command('update')
    .description("change a reservation's counts: a new authorization code, completed by the device's confirmation code")
    .requiredOption('--instance <id>', 'product instance id of the reservation')
    .requiredOption('--license <tag:count>', 'a tag and count to reserve (repeatable)', collectLicense)
    .option('--out <file>', 'also write the authorization code to FILE')
    .option('--json', 'print JSON')
    .action(
      async (opts: { instance: string; license: { tag: string; count: number }[]; out?: string; json?: boolean }) => {
        const answer = await adminRequest<UpdatedReservation>(
          connect(),
          'POST',
          `/api/v1/instances/${encodeURIComponent(opts.instance)}/reservation`,
          { licenses: opts.license },
        );
        await writeCode(opts.out, answer.authorizationCode);
        print(
          answer,
          opts,
          (a) =>
            `${codeText(a.authorizationCode, opts.out)}\nThen enter the device's confirmation code with \`reservation confirm\`.`,
        );
      },
    );
  for (const [name, path, description, done] of [
    ['confirm', 'confirm', "enter the device's confirmation code of an updated reservation", 'confirmed'],
    ['return', 'return', "enter the device's return code: the counts go back to the pool", 'returned'],
  ] as const) {
    reservation
      .command(name)
      .description(description)
      .requiredOption('--instance <id>', 'product instance id of the reservation')
      .requiredOption(
        '--code <code>',
        `the ${name === 'confirm' ? 'confirmation' : 'return'} code the device printed (or @FILE)`,
      )
      .option('--json', 'print JSON')
      .action(async (opts: { instance: string; code: string; json?: boolean }) => {
        const code = await codeArgument(opts.code, `${name} code`);
        const answer = await adminRequest<ReservationAnswer>(
          connect(),
          'POST',
          `/api/v1/instances/${encodeURIComponent(opts.instance)}/reservation/${path}`,
          { code },
        );
        print(answer, opts, (r) =>
          r.status === 'returned'
            ? `Reservation ${r.id} returned: its licenses are back in the pool and product instance ${r.instanceId} is removed.`
            : `Reservation ${r.id} ${done}: ${r.plr ? 'all features' : r.licenses.map((l) => `${l.tag}×${l.count}`).join(', ')} (authorization ${r.sequence}).`,
        );
      });
  }
  return reservation;
}
