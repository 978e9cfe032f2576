import { Command } from 'commander';
import { CliError, parseInteger, print } from '../../output.js';
import { openDevice } from './device-context.js';

/** `LEGACY_ID:TAG:COUNT` (the legacy id may itself contain colons) → a legacy license. */
export function parseLegacyLicense(spec: string): { legacyId: string; tag: string; count: number } {
  const parts = spec.split(':');
  if (parts.length < 3) throw new CliError(`--license must be LEGACY_ID:TAG:COUNT, not "${spec}".`);
  const count = parseInteger(parts.pop()!, '--license count', 1);
  const tag = parts.pop()!;
  const legacyId = parts.join(':');
  if (!legacyId || !tag) throw new CliError(`--license must be LEGACY_ID:TAG:COUNT, not "${spec}".`);
  return { legacyId, tag, count };
}

/** `license smart conversion start --license LEGACY_ID:TAG:COUNT …`: device-led conversion (SPEC §4.5). */
export function conversionCommand(): Command {
  const conversion = new Command('conversion').description('device-led conversion of legacy licenses');
  conversion
    .command('start')
    .description(
      'report the legacy licenses this device holds; each is deposited into its Virtual Account once, if the VA allows it (or waits for an admin)',
    )
    .requiredOption(
      '--license <LEGACY_ID:TAG:COUNT>',
      'a legacy license (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--json', 'print JSON')
    .action(async (opts: { license: string[]; json?: boolean }, cmd: Command) => {
      const licenses = opts.license.map(parseLegacyLicense);
      const agent = await openDevice(cmd);
      const result = await agent.reportLegacyLicenses(licenses);
      if (!result.ok) throw new CliError(`Conversion failed: ${result.message}`);
      print(result, opts, (r) => r.message);
    });
  return conversion;
}
