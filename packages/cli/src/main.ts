import { CliError, describeError, writeText } from './output.js';
import { buildProgram } from './program.js';

const program = buildProgram();
program.exitOverride();
program.configureOutput({ writeErr: (text) => process.stderr.write(text) });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    // commander has printed its own message (help, version or a usage error).
    process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
  } else {
    writeText(process.stderr, `smartlic: ${describeError(error)}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}
