import { readFile } from 'node:fs/promises';
import type { Agent, Outcome } from '@smartlic/agent';
import { writeFileAtomic } from '@smartlic/protocol/fs';
import type { Command } from 'commander';
import { CliError, parseInteger, print, writeText } from '../../output.js';
import { openDevice } from './device-context.js';

/** Prints a policy-model outcome (with the status under --json); a failure becomes the command's error. */
function report(agent: Agent, outcome: Outcome, opts: { json?: boolean }, prefix: string): void {
  if (opts.json) print({ outcome, status: agent.status() }, opts, () => '');
  if (!outcome.ok) throw new CliError(`${prefix}${outcome.message}`);
  if (!opts.json) writeText(process.stdout, `${outcome.message}\n`);
}

/**
 * The Smart Licensing Using Policy commands under `license smart` (SPEC §9): `trust idtoken TOKEN
 * [local|all] [force]`, `sync all`, `save usage all|unreported FILE`, `import FILE`, and
 * `authorization request add TAG local | request save FILE | return local`.
 */
export function addPolicyCommands(smart: Command): void {
  smart
    .command('trust <idtoken> <token> [words...]')
    .description('install a trust code (policy model): license smart trust idtoken TOKEN [local|all] [force]')
    .option('--json', 'print JSON')
    .action(async (keyword: string, token: string, words: string[], opts: { json?: boolean }, cmd: Command) => {
      if (keyword !== 'idtoken') throw new CliError('Usage: license smart trust idtoken TOKEN [local|all] [force]');
      const unknown = words.filter((w) => !['local', 'all', 'force'].includes(w));
      if (unknown.length > 0)
        throw new CliError(`Unknown word "${unknown[0]}": only local, all and force may follow the token.`);
      const agent = await openDevice(cmd);
      const outcome = await agent.trust(token, {
        scope: words.includes('all') ? 'all' : 'local',
        force: words.includes('force'),
      });
      report(agent, outcome, opts, 'Trust code installation failed: ');
    });
  smart
    .command('sync <all>')
    .description('report usage to the authority now and take its ACK: license smart sync all')
    .option('--json', 'print JSON')
    .action(async (all: string, opts: { json?: boolean }, cmd: Command) => {
      if (all !== 'all') throw new CliError('Usage: license smart sync all');
      const agent = await openDevice(cmd);
      report(agent, await agent.syncUsage(), opts, 'Usage reporting failed: ');
    });
  smart
    .command('save <usage> <which> <file>')
    .description('write the signed usage reports to a file: license smart save usage all|unreported FILE')
    .option('--json', 'print JSON: {reports, file}')
    .action(async (usage: string, which: string, file: string, opts: { json?: boolean }, cmd: Command) => {
      if (usage !== 'usage' || (which !== 'all' && which !== 'unreported')) {
        throw new CliError('Usage: license smart save usage all|unreported FILE');
      }
      const agent = await openDevice(cmd);
      const saved = await agent.saveUsage(which);
      await writeFileAtomic(file, `${JSON.stringify(saved, null, 2)}\n`);
      print(
        { reports: saved.reports.length, file },
        opts,
        (r) =>
          `${r.reports} usage report(s) written to ${file}: import it on the authority (admin usage import --in ${file} --out ACK_FILE), then load the ACK with license smart import ACK_FILE.`,
      );
    });
  smart
    .command('import <file>')
    .description('load an ACK file or an authorization code (SLAC) file from the authority: license smart import FILE')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      const text = await readFile(file, 'utf8').catch(() => {
        throw new CliError(`Cannot read the ACK file ${file}.`);
      });
      const agent = await openDevice(cmd);
      report(agent, await agent.importAck(text), opts, 'ACK import failed: ');
    });

  const authorization = smart
    .command('authorization')
    .description('Smart Licensing Authorization Codes (SLAC) for enforced and export-controlled licenses');
  authorization
    .command('request <action> <what> [mode]')
    .description(
      'license smart authorization request add TAG local [--count N] | request save FILE --tag TAG [--count N]',
    )
    .option('--count <n>', 'how many licenses of TAG', '1')
    .option('--tag <tag>', 'request save: the entitlement tag to ask for')
    .option('--json', 'print JSON')
    .action(
      async (
        action: string,
        what: string,
        mode: string | undefined,
        opts: { count: string; tag?: string; json?: boolean },
        cmd: Command,
      ) => {
        if (action === 'save') {
          if (!opts.tag || mode !== undefined) {
            throw new CliError('Usage: license smart authorization request save FILE --tag TAG [--count N]');
          }
          const agent = await openDevice(cmd);
          const saved = await agent.saveAuthorizationRequest(opts.tag, parseInteger(opts.count, '--count', 1));
          await writeFileAtomic(what, `${JSON.stringify(saved, null, 2)}\n`);
          print(
            { requestId: saved.request.payload.requestId, file: what },
            opts,
            (r) =>
              `Authorization request written to ${r.file}: answer it on the authority (admin authorization import --in ${r.file} --out SLAC_FILE), then load the code with license smart import SLAC_FILE.`,
          );
          return;
        }
        if (action !== 'add' || mode !== 'local') {
          throw new CliError('Usage: license smart authorization request add TAG local | request save FILE');
        }
        const agent = await openDevice(cmd);
        const outcome = await agent.requestAuthorization(what, parseInteger(opts.count, '--count', 1));
        report(agent, outcome, opts, 'Authorization request failed: ');
      },
    );
  authorization
    .command('return <mode>')
    .description('give the installed authorization codes back: license smart authorization return local')
    .option('--json', 'print JSON')
    .action(async (mode: string, opts: { json?: boolean }, cmd: Command) => {
      if (mode !== 'local') throw new CliError('Usage: license smart authorization return local');
      const agent = await openDevice(cmd);
      report(agent, await agent.returnAuthorization(), opts, 'Authorization return failed: ');
    });
}
