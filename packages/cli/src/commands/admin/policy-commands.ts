import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@smartlic/protocol/fs';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, parseInteger, print } from '../../output.js';

const CLASSES = ['unenforced-perpetual', 'unenforced-subscription', 'enforced', 'export-controlled'] as const;

interface PolicyView {
  name: string;
  custom: boolean;
  classes: Record<string, { firstReportDays: number; reportingFrequencyDays: number; onChangeDays: number }>;
}

/** `admin policy set|show`: a Virtual Account's Smart Licensing Using Policy terms (SPEC §9). */
export function policyCommands(connect: () => AdminConnection): Command {
  const policy = new Command('policy').description(
    "a Virtual Account's reporting policy (Smart Licensing Using Policy)",
  );
  policy
    .command('set')
    .description("set a VA's custom terms for one license class; devices get them with their next ACK")
    .requiredOption('--va <vaId>', 'Virtual Account id or name')
    .requiredOption('--class <class>', `license class: ${CLASSES.join(', ')}`)
    .requiredOption('--first-report <days>', 'first report required within DAYS of first use (0: not required)')
    .requiredOption('--frequency <days>', 'report every DAYS (0: no periodic reporting)')
    .requiredOption('--on-change <days>', 'report within DAYS of a change of use (0: not required)')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        va: string;
        class: string;
        firstReport: string;
        frequency: string;
        onChange: string;
        json?: boolean;
      }) => {
        if (!(CLASSES as readonly string[]).includes(opts.class)) {
          throw new CliError(`--class must be one of ${CLASSES.join(', ')}, not "${opts.class}".`);
        }
        const view = await adminRequest<PolicyView>(
          connect(),
          'POST',
          `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/policy`,
          {
            licenseClass: opts.class,
            firstReportDays: parseInteger(opts.firstReport, '--first-report', 0),
            reportingFrequencyDays: parseInteger(opts.frequency, '--frequency', 0),
            onChangeDays: parseInteger(opts.onChange, '--on-change', 0),
          },
        );
        print(view, opts, (v) => {
          const t = v.classes[opts.class];
          return `Policy of the VA (${v.name}): ${opts.class} first report ${t?.firstReportDays} days, frequency ${t?.reportingFrequencyDays} days, on change ${t?.onChangeDays} days.`;
        });
      },
    );
  policy
    .command('show')
    .description("a VA's policy: the defaults with its custom terms")
    .requiredOption('--va <vaId>', 'Virtual Account id or name')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; json?: boolean }) => {
      const view = await adminRequest<PolicyView>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/policy`,
      );
      print(view, opts, (v) =>
        [
          `Policy: ${v.name}`,
          ...Object.entries(v.classes).map(
            ([c, t]) =>
              `  ${c}: first report ${t.firstReportDays}, frequency ${t.reportingFrequencyDays}, on change ${t.onChangeDays} (days)`,
          ),
        ].join('\n'),
      );
    });
  return policy;
}

/** Adds `import --in RUM_FILE --out ACK_FILE` to `admin usage`: a policy device's offline usage reports, and its ACK. */
export function addUsageImportCommand(usage: Command, connect: () => AdminConnection): void {
  usage
    .command('import')
    .description('import a usage file saved on a device (license smart save usage); writes the ACK file to load on it')
    .requiredOption('--in <file>', 'the usage file')
    .requiredOption('--out <file>', 'where to write the ACK file')
    .option('--json', 'print JSON: {reports, acknowledged, recorded}')
    .action(async (opts: { in: string; out: string; json?: boolean }) => {
      const text = await readFile(opts.in, 'utf8').catch(() => {
        throw new CliError(`Cannot read the usage file ${opts.in}.`);
      });
      let file: { instanceId?: unknown };
      try {
        file = JSON.parse(text) as { instanceId?: unknown };
      } catch {
        throw new CliError(`${opts.in} is not a usage file (not JSON).`);
      }
      if (typeof file?.instanceId !== 'string' || file.instanceId === '') {
        throw new CliError(`${opts.in} is not a usage file: it names no product instance.`);
      }
      const answer = await adminRequest<{ reports: number; acknowledged: number; recorded: number; ackFile: unknown }>(
        connect(),
        'POST',
        `/api/v1/instances/${encodeURIComponent(file.instanceId)}/usage-reports`,
        file,
      );
      await writeFileAtomic(opts.out, `${JSON.stringify(answer.ackFile, null, 2)}\n`);
      const { reports, acknowledged, recorded } = answer;
      print(
        { reports, acknowledged, recorded },
        opts,
        (a) =>
          `Imported ${a.reports} report(s): ${a.recorded} recorded now, ${a.reports - a.recorded} recorded before; ${a.acknowledged} acknowledged. ACK file written to ${opts.out}: load it on the device with license smart import ${opts.out}.`,
      );
    });
}

/**
 * `admin authorization import --in REQUEST_FILE --out SLAC_FILE`: answers a policy device's offline
 * SLAC request (`license smart authorization request save FILE`) with the SLAC file it loads.
 */
export function authorizationCommands(connect: () => AdminConnection): Command {
  const authorization = new Command('authorization').description(
    'Smart Licensing Authorization Codes (SLAC) for policy devices that ask by file',
  );
  authorization
    .command('import')
    .description('answer a SLAC request file saved on a device; writes the SLAC file to load on it')
    .requiredOption('--in <file>', 'the SLAC request file (license smart authorization request save)')
    .requiredOption('--out <file>', 'where to write the SLAC file')
    .option('--json', 'print JSON: {slacId, issued}')
    .action(async (opts: { in: string; out: string; json?: boolean }) => {
      const text = await readFile(opts.in, 'utf8').catch(() => {
        throw new CliError(`Cannot read the authorization request file ${opts.in}.`);
      });
      let file: { instanceId?: unknown };
      try {
        file = JSON.parse(text) as { instanceId?: unknown };
      } catch {
        throw new CliError(`${opts.in} is not an authorization request file (not JSON).`);
      }
      if (typeof file?.instanceId !== 'string' || file.instanceId === '') {
        throw new CliError(`${opts.in} is not an authorization request file: it names no product instance.`);
      }
      const answer = await adminRequest<{ slacId: string; issued: boolean; slacFile: unknown }>(
        connect(),
        'POST',
        `/api/v1/instances/${encodeURIComponent(file.instanceId)}/slac-requests`,
        file,
      );
      await writeFileAtomic(opts.out, `${JSON.stringify(answer.slacFile, null, 2)}\n`);
      const { slacId, issued } = answer;
      print(
        { slacId, issued },
        opts,
        (a) =>
          `Authorization code ${a.slacId} ${a.issued ? 'issued' : 'issued before (the same code again)'}; SLAC file written to ${opts.out}: load it on the device with license smart import ${opts.out}.`,
      );
    });
  return authorization;
}
