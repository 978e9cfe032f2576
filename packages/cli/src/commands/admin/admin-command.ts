import { Command } from 'commander';
import { type AdminConnection, adminConnection } from '../../admin-client.js';
import { resolveNamedOptions } from '../../resolve.js';
import { accountCommand, vaCommand } from './account-commands.js';
import { backupCommand } from './backup-command.js';
import { conversionCommands } from './conversion-commands.js';
import { eventCommands } from './event-commands.js';
import { instanceCommands } from './instance-commands.js';
import { jobCommands } from './job-commands.js';
import { licenseCommands } from './license-commands.js';
import { pakCommands } from './pak-commands.js';
import { authorizationCommands, policyCommands } from './policy-commands.js';
import { reportCommands } from './report-commands.js';
import { reservationCommands } from './reservation-commands.js';
import { satelliteCommands } from './satellite-commands.js';
import { syncCommands } from './sync-commands.js';
import { tagCommands } from './tag-commands.js';
import { tokenCommands } from './token-commands.js';
import { usageCommands } from './usage-commands.js';
import { userCommands } from './user-commands.js';
import { webhookCommands } from './webhook-commands.js';

/** `smartlic admin …`: drives the authority's REST API. */
export function adminCommand(): Command {
  const admin = new Command('admin')
    .description('administer an authority through its REST API')
    .option('--server <url>', 'server URL (default: $SMARTLIC_SERVER)')
    .option('--api-key <key>', 'API key (default: $SMARTLIC_API_KEY)')
    .option('--ca <file>', 'trust this CA certificate (PEM) for an https:// server (default: $SMARTLIC_CA)');
  const connect = (): AdminConnection =>
    adminConnection(admin.opts<{ server?: string; apiKey?: string; ca?: string }>());
  admin.hook('preAction', (_admin, action) => resolveNamedOptions(action, connect));
  admin.addCommand(accountCommand(connect));
  admin.addCommand(vaCommand(connect));
  admin.addCommand(licenseCommands(connect));
  admin.addCommand(tokenCommands(connect));
  admin.addCommand(instanceCommands(connect));
  admin.addCommand(pakCommands(connect));
  admin.addCommand(conversionCommands(connect));
  admin.addCommand(webhookCommands(connect));
  admin.addCommand(reservationCommands(connect));
  admin.addCommand(tagCommands(connect));
  admin.addCommand(reportCommands(connect));
  admin.addCommand(jobCommands(connect));
  admin.addCommand(usageCommands(connect));
  admin.addCommand(userCommands(connect));
  admin.addCommand(eventCommands(connect));
  admin.addCommand(backupCommand(connect));
  admin.addCommand(policyCommands(connect));
  admin.addCommand(authorizationCommands(connect));
  admin.addCommand(satelliteCommands(connect));
  admin.addCommand(syncCommands(connect));
  return admin;
}
