import { Command } from 'commander';
import { adminCommand } from './commands/admin/admin-command.js';
import { deviceCommand } from './commands/device/device-command.js';
import { serverCommand } from './commands/server-command.js';
import { CliError } from './output.js';

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
  program.hook('preAction', (_program, action) => refuseFlagLikeValues(action));
  return program;
}

/**
 * An option whose value was left out takes the next word, flag or not: `--account --json` would
 * send "--json" as an account id. Such a value is refused, naming the option that needs one.
 */
function refuseFlagLikeValues(action: Command): void {
  for (let command: Command | null = action; command; command = command.parent) {
    for (const option of command.options) {
      const values = command.getOptionValue(option.attributeName()) as unknown;
      for (const value of Array.isArray(values) ? values : [values]) {
        if (
          typeof value === 'string' &&
          /^--?[A-Za-z]/.test(value) &&
          command.getOptionValueSource(option.attributeName()) === 'cli'
        ) {
          throw new CliError(`${option.long ?? option.flags} needs a value, but was followed by the flag ${value}.`);
        }
      }
    }
  }
}
