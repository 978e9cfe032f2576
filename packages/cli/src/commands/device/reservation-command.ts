import { readFile } from 'node:fs/promises';
import type { ReservationAction } from '@smartlic/agent';
import { Command } from 'commander';
import { CliError, print } from '../../output.js';
import { openDevice } from './device-context.js';

/** The authority root PEM of `--root`, if given. */
async function readRoot(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  const pem = await readFile(path, 'utf8').catch(() => {
    throw new CliError(`Cannot read the authority root certificate file ${path}.`);
  });
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`${path} holds no PEM certificate.`);
  return pem;
}

/** Runs one reservation action and prints its message and the code to hand over (--json: `{code, message}`). */
async function run(cmd: Command, action: ReservationAction, opts: { json?: boolean }): Promise<void> {
  const agent = await openDevice(cmd);
  const step = await agent.reservation(action);
  print({ code: step.code ?? null, message: step.message }, opts, (s) =>
    s.code ? `${s.message}\n${s.code}` : s.message,
  );
}

/** `license smart reservation enable|disable|request|cancel|install|install-file|return|return-authorization` (SPEC §7, §9). */
export function reservationCommand(): Command {
  const reservation = new Command('reservation').description('offline license reservation (SLR/PLR)');
  reservation
    .command('enable')
    .description('enable license reservation (the device stops calling home)')
    .option(
      '--root <pemFile>',
      "the authority's root CA certificate (pki/root-ca.pem), to verify authorization codes with",
    )
    .option('--json', 'print JSON')
    .action(async (opts: { root?: string; json?: boolean }, cmd: Command) => {
      const authorityRootPem = await readRoot(opts.root);
      await run(cmd, { type: 'enable', ...(authorityRootPem ? { authorityRootPem } : {}) }, opts);
    });
  for (const [name, description] of [
    ['disable', 'disable license reservation'],
    ['request', 'print the request code to enter in the authority'],
    ['cancel', 'cancel the reservation request in progress'],
    ['return', 'remove the installed reservation and print the return code'],
  ] as const) {
    reservation
      .command(name)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (opts: { json?: boolean }, cmd: Command) => run(cmd, { type: name }, opts));
  }
  reservation
    .command('install')
    .description('install an authorization code (an update prints a confirmation code)')
    .argument('<code...>', 'the authorization code (quoted; line breaks are ignored)')
    .option('--root <pemFile>', "the authority's root CA certificate (pki/root-ca.pem), to verify the code with")
    .option('--json', 'print JSON')
    .action(async (words: string[], opts: { root?: string; json?: boolean }, cmd: Command) => {
      const authorityRootPem = await readRoot(opts.root);
      await run(
        cmd,
        { type: 'install', code: words.join(''), ...(authorityRootPem ? { authorityRootPem } : {}) },
        opts,
      );
    });
  reservation
    .command('install-file')
    .description('install an authorization code from a file')
    .argument('<path>', 'file holding the authorization code')
    .option('--root <pemFile>', "the authority's root CA certificate (pki/root-ca.pem), to verify the code with")
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { root?: string; json?: boolean }, cmd: Command) => {
      const code = await readFile(path, 'utf8').catch(() => {
        throw new CliError(`Cannot read the authorization code file ${path}.`);
      });
      const authorityRootPem = await readRoot(opts.root);
      await run(cmd, { type: 'install', code, ...(authorityRootPem ? { authorityRootPem } : {}) }, opts);
    });
  reservation
    .command('return-authorization')
    .description('print a return code for an authorization code that was never installed')
    .argument('<code...>', 'the authorization code (quoted)')
    .option('--json', 'print JSON')
    .action(async (words: string[], opts: { json?: boolean }, cmd: Command) =>
      run(cmd, { type: 'return-authorization', code: words.join('') }, opts),
    );
  return reservation;
}
