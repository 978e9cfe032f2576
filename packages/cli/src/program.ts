import { Command } from 'commander';
import { adminCommand } from './commands/admin/admin-command.js';
import { deviceCommand } from './commands/device/device-command.js';
import { serverCommand } from './commands/server-command.js';

/** Version printed by `smartlic --version`. */
export const VERSION = '0.1.0';

/** The whole `smartlic` command tree (SPEC §9's contract). */
export function buildProgram(): Command {
  const program = new Command('smartlic')
    .description('smartlic: Smart Licensing authority, satellite, agent and tools')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(serverCommand());
  program.addCommand(adminCommand());
  program.addCommand(deviceCommand());
  return program;
}
