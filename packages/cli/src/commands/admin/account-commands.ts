import type { AccountView, ConversionSettingsView, VirtualAccountView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, parseInteger, print, table } from '../../output.js';

/** `admin account create|list`. */
export function accountCommand(connect: () => AdminConnection): Command {
  const account = new Command('account').description('Smart Accounts');
  account
    .command('create <name>')
    .description('create a Smart Account')
    .option('--domain <domain>', 'the account domain, e.g. example.com')
    .option('--existing <what>', 'when the account exists already: fail (the default) or reuse it', 'fail')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { domain?: string; existing: string; json?: boolean }) => {
      const connection = connect();
      if (existingMode(opts.existing) === 'reuse') {
        const found = await existingAccount(connection, name, opts.domain);
        if (found) {
          print(found, opts, (a) => `Smart Account "${a.name}" exists already: id ${a.id}, domain ${a.domain}`);
          return;
        }
      }
      const created = await adminRequest<AccountView>(connection, 'POST', '/api/v1/accounts', {
        name,
        ...(opts.domain ? { domain: opts.domain } : {}),
      });
      print(created, opts, (a) => `Smart Account "${a.name}" created: id ${a.id}, domain ${a.domain}`);
    });
  account
    .command('list')
    .description('list Smart Accounts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const accounts = await adminRequest<AccountView[]>(connect(), 'GET', '/api/v1/accounts');
      print(accounts, opts, (rows) =>
        table(
          ['ID', 'NAME', 'DOMAIN'],
          rows.map((a) => [a.id, a.name, a.domain]),
        ),
      );
    });
  return account;
}

/** `--existing`: fail (the default) or reuse what exists already. */
function existingMode(value: string): 'fail' | 'reuse' {
  if (value !== 'fail' && value !== 'reuse') throw new CliError(`--existing must be fail or reuse, not "${value}".`);
  return value;
}

/**
 * The account `create --existing reuse` answers: the one with the domain (it must carry the same
 * name), or without --domain the one account of that name; undefined when there is none.
 */
async function existingAccount(
  connection: AdminConnection,
  name: string,
  domain: string | undefined,
): Promise<AccountView | undefined> {
  const accounts = await adminRequest<AccountView[]>(connection, 'GET', '/api/v1/accounts');
  if (domain !== undefined) {
    const owner = accounts.find((a) => a.domain.toLowerCase() === domain.toLowerCase());
    if (owner && owner.name !== name) {
      throw new CliError(
        `The domain ${domain} belongs to the Smart Account "${owner.name}" (${owner.id}), not "${name}": nothing was created.`,
      );
    }
    return owner;
  }
  const named = accounts.filter((a) => a.name === name);
  if (named.length > 1) {
    throw new CliError(
      `${named.length} Smart Accounts are named "${name}": pass --domain to say which (${named.map((a) => `${a.id}, domain ${a.domain}`).join('; ')}).`,
    );
  }
  return named[0];
}

const MODES = ['on', 'off', 'review'] as const;

/** How `va set|show` describe a VA's device-led conversion. */
function conversionText(s: ConversionSettingsView): string {
  const caps = `${s.autoMaxPerLicense} per legacy license and ${s.autoMaxPerDevice} per device deposited automatically, at most ${s.maxLicensesPerReport} per report`;
  switch (s.mode) {
    case 'off':
      return 'off (devices are refused)';
    case 'review':
      return `review (every conversion waits for an admin; at most ${s.maxLicensesPerReport} per report)`;
    case 'on':
      return `on (${caps}; the rest waits for an admin)`;
  }
}

/** `va set`'s options → the settings body; only what is given changes. */
function conversionSettingsBody(opts: {
  deviceConversion?: string;
  conversionMaxLicenses?: string;
  conversionAutoMax?: string;
  conversionDeviceMax?: string;
}): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (opts.deviceConversion !== undefined) {
    if (!(MODES as readonly string[]).includes(opts.deviceConversion)) {
      throw new CliError(`--device-conversion must be on, off or review, not "${opts.deviceConversion}".`);
    }
    body.mode = opts.deviceConversion;
  }
  if (opts.conversionMaxLicenses !== undefined) {
    body.maxLicensesPerReport = parseInteger(opts.conversionMaxLicenses, '--conversion-max-licenses', 1);
  }
  if (opts.conversionAutoMax !== undefined) {
    body.autoMaxPerLicense = parseInteger(opts.conversionAutoMax, '--conversion-auto-max', 0);
  }
  if (opts.conversionDeviceMax !== undefined) {
    body.autoMaxPerDevice = parseInteger(opts.conversionDeviceMax, '--conversion-device-max', 0);
  }
  if (Object.keys(body).length === 0) {
    throw new CliError(
      'Name a setting to change: --device-conversion on|off|review, --conversion-max-licenses N, --conversion-auto-max N or --conversion-device-max N.',
    );
  }
  return body;
}

/** `admin va create|list|set|show`. */
export function vaCommand(connect: () => AdminConnection): Command {
  const va = new Command('va').description('Virtual Accounts');
  va.command('create <name>')
    .description('create a Virtual Account in a Smart Account')
    .requiredOption('--account <id>', 'Smart Account id (or its name)')
    .option(
      '--existing <what>',
      'when the account has a VA of that name already: fail (the default) or reuse it',
      'fail',
    )
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { account: string; existing: string; json?: boolean }) => {
      const connection = connect();
      if (existingMode(opts.existing) === 'reuse') {
        const vas = await adminRequest<VirtualAccountView[]>(
          connection,
          'GET',
          `/api/v1/accounts/${encodeURIComponent(opts.account)}/virtual-accounts`,
        );
        const found = vas.find((v) => v.name === name);
        if (found) {
          print(found, opts, (v) => `Virtual Account "${v.name}" exists already: id ${v.id}`);
          return;
        }
      }
      const created = await adminRequest<VirtualAccountView>(
        connection,
        'POST',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/virtual-accounts`,
        { name },
      );
      print(created, opts, (v) => `Virtual Account "${v.name}" created: id ${v.id}`);
    });
  va.command('list')
    .description('list the Virtual Accounts of a Smart Account')
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; json?: boolean }) => {
      const vas = await adminRequest<VirtualAccountView[]>(
        connect(),
        'GET',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/virtual-accounts`,
      );
      print(vas, opts, (rows) =>
        table(
          ['ID', 'NAME'],
          rows.map((v) => [v.id, v.name]),
        ),
      );
    });
  va.command('set')
    .description("change a Virtual Account's settings (admin of the VA): device-led conversion and its caps")
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--device-conversion <mode>', 'on (deposit under the caps), off (refuse; the default) or review (all wait)')
    .option('--conversion-max-licenses <n>', 'most licenses one device report may ask for; more is refused')
    .option('--conversion-auto-max <n>', 'most licenses of one legacy license deposited without an admin')
    .option('--conversion-device-max <n>', 'most licenses one device may have deposited without an admin, in all')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        va: string;
        deviceConversion?: string;
        conversionMaxLicenses?: string;
        conversionAutoMax?: string;
        conversionDeviceMax?: string;
        json?: boolean;
      }) => {
        const body = conversionSettingsBody(opts);
        const settings = await adminRequest<ConversionSettingsView>(
          connect(),
          'PATCH',
          `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/conversion-settings`,
          body,
        );
        print(settings, opts, (s) => `Device-led conversion in ${s.vaId}: ${conversionText(s)}.`);
      },
    );
  va.command('show')
    .description("a Virtual Account's settings: license reservation and device-led conversion")
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; json?: boolean }) => {
      const id = encodeURIComponent(opts.va);
      const reservation = await adminRequest<{ allowed: boolean }>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${id}/reservation-settings`,
      );
      const deviceConversion = await adminRequest<ConversionSettingsView>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${id}/conversion-settings`,
      );
      const { vaId: _, ...conversion } = deviceConversion;
      const shown = { id: opts.va, reservationAllowed: reservation.allowed, deviceConversion: conversion };
      print(shown, opts, (v) =>
        [
          `Virtual Account ${v.id}`,
          `  License reservation: ${v.reservationAllowed ? 'allowed' : 'not allowed'}`,
          `  Device-led conversion: ${conversionText(deviceConversion)}`,
        ].join('\n'),
      );
    });
  return va;
}
