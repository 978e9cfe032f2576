import type { JobsOutcome } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { print } from '../../output.js';

/** `admin job run`: runs the server's lifecycle jobs now (silent instances, expiries, snapshots). */
export function jobCommands(connect: () => AdminConnection): Command {
  const job = new Command('job').description('background jobs of the authority');
  job
    .command('run')
    .description('run every background job now, as of the server clock')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const outcome = await adminRequest<JobsOutcome>(connect(), 'POST', '/api/v1/jobs/run');
      print(outcome, opts, (o) =>
        Object.entries(o)
          .map(([k, v]) => `${k}: ${String(v)}`)
          .join('\n'),
      );
    });
  return job;
}
