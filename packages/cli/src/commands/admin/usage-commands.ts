import type { ReconcileResult } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { print } from '../../output.js';
import { addUsageImportCommand } from './policy-commands.js';

/**
 * `admin usage`: `reconcile` checks the maintained usage totals against the instances' usage and
 * repairs them; `import` takes a policy device's offline usage reports (SPEC §9) and writes its ACK.
 */
export function usageCommands(connect: () => AdminConnection): Command {
  const usage = new Command('usage').description(
    'usage totals the server maintains per Virtual Account, and offline usage reports of policy devices',
  );
  usage
    .command('reconcile')
    .description(
      "recompute the usage totals from the instances' usage and repair any that differ (every VA: owner key; one VA: its admins)",
    )
    .option('--va <id>', 'only this Virtual Account (id or name)')
    .option('--json', 'print JSON')
    .action(async (opts: { va?: string; json?: boolean }) => {
      const path =
        opts.va === undefined
          ? '/api/v1/usage/reconcile'
          : `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/usage/reconcile`;
      const result = await adminRequest<ReconcileResult>(connect(), 'POST', path);
      print(result, opts, (r) =>
        r.corrected === 0
          ? `Usage totals of ${r.vas} Virtual Account(s) match the instances' usage.`
          : `Repaired ${r.corrected} usage total(s) across ${r.vas} Virtual Account(s) checked.`,
      );
    });
  addUsageImportCommand(usage, connect);
  return usage;
}
