/**
 * A process that opens a device state to write, for the writer lock tests:
 * `node lock-holder-main.js STATE_DIR hold|exit`. Prints `opened` or `refused CODE MESSAGE`;
 * `hold` keeps the agent open until SIGTERM (then closes it), `exit` ends the process at once
 * without closing it.
 */
import { SmartlicError } from '@smartlic/protocol/core';
import { Agent } from '../agent.js';

const [stateDir = '', mode = 'hold'] = process.argv.slice(2);
try {
  const agent = await Agent.open({ stateDir, processName: 'lock-holder' });
  if (mode === 'exit') {
    process.stdout.write('opened\n');
    process.exit(0);
  }
  const keepAlive = setInterval(() => {}, 60_000);
  process.once('SIGTERM', () => {
    clearInterval(keepAlive);
    void agent.close();
  });
  process.stdout.write('opened\n');
} catch (error) {
  const code = error instanceof SmartlicError ? error.code : 'UNEXPECTED';
  process.stdout.write(`refused ${code} ${(error as Error).message}\n`);
}
