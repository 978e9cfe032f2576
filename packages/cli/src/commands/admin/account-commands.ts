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
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { domain?: string; json?: boolean }) => {
      const created = await adminRequest<AccountView>(connect(), 'POST', '/api/v1/accounts', {
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
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { account: string; json?: boolean }) => {
      const created = await adminRequest<VirtualAccountView>(
        connect(),
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
