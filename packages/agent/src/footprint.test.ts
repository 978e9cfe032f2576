import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const AGENT_DIR = fileURLToPath(new URL('..', import.meta.url));

// What a product loads with `import '@smartlic/agent'` (the bundle in dist/bundle): never zod,
// never @peculiar/x509 (ADR 0005). A resolve hook refuses both; importing must still succeed.
const REFUSE = `
export async function resolve(specifier, context, next) {
  if (/^(zod|@peculiar\\/x509|reflect-metadata)(\\/|$)/.test(specifier)) {
    throw new Error('refused: ' + specifier + ' imported by ' + context.parentURL);
  }
  return next(specifier, context);
}`;
const SCRIPT = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(REFUSE)}));
const agent = await import('@smartlic/agent');
console.log(typeof agent.Agent);
`;

describe('the agent entry point', () => {
  it('loads neither zod nor @peculiar/x509', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: AGENT_DIR });
    expect(stdout.trim()).toBe('function');
  });

  it('is refused by the same hook when it would load zod (the check can fail)', async () => {
    const script = SCRIPT.replace("import('@smartlic/agent')", "import('@smartlic/protocol')");
    await expect(run(process.execPath, ['--input-type=module', '-e', script], { cwd: AGENT_DIR })).rejects.toThrow(
      /refused: zod/,
    );
  });
});
