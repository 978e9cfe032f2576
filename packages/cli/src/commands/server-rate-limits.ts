import type { ServerOptions } from '@smartlic/server';
import type { Command } from 'commander';
import { CliError, parseInteger } from '../output.js';

/**
 * The `--rate-limit-*` flags of `smartlic server` and the server option each sets (all per minute);
 * the defaults are the server's `DEFAULT_RATE_LIMITS` (docs/cli.md lists them).
 */
const LIMIT_FLAGS = [
  ['register', '--rate-limit-register <n>', 'registrations per minute per source address'],
  ['registerPerToken', '--rate-limit-register-token <n>', 'registrations per minute per token'],
  ['device', '--rate-limit-device <n>', 'other device messages per minute per product instance'],
  ['admin', '--rate-limit-admin <n>', 'admin API requests per minute per API key'],
  [
    'authFailures',
    '--rate-limit-auth-failures <n>',
    'failed authentications (wrong API key, unknown token) per minute per address, then 429',
  ],
  ['signIn', '--rate-limit-sign-in <n>', 'portal sign-in attempts per minute per address'],
  ['signInPerEmail', '--rate-limit-sign-in-email <n>', 'failed portal sign-ins per minute per e-mail, then 429'],
  [
    'satelliteSync',
    '--rate-limit-satellite-sync <n>',
    'satellite registrations and syncs over the network per minute per address',
  ],
  [
    'satelliteSyncPerSatellite',
    '--rate-limit-satellite-sync-per-satellite <n>',
    'network syncs per minute per satellite',
  ],
] as const;

type LimitName = (typeof LIMIT_FLAGS)[number][0];

/** What commander gives for the rate-limit flags. */
export interface RateLimitFlags {
  rateLimit: string;
  rateLimitRegister?: string;
  rateLimitRegisterToken?: string;
  rateLimitDevice?: string;
  rateLimitAdmin?: string;
  rateLimitAuthFailures?: string;
  rateLimitSignIn?: string;
  rateLimitSignInEmail?: string;
  rateLimitSatelliteSync?: string;
  rateLimitSatelliteSyncPerSatellite?: string;
}

/** Adds `--rate-limit on|off` and the `--rate-limit-*` flags to `command`. */
export function withRateLimitFlags(command: Command): Command {
  command.option('--rate-limit <on|off>', 'request rate limits (off: for benchmarks and tests only)', 'on');
  for (const [, flag, help] of LIMIT_FLAGS) command.option(flag, help);
  return command;
}

/** The server's `rateLimits` option from the flags; a limit given with `--rate-limit off` is an error. */
export function rateLimitsOf(flags: RateLimitFlags): ServerOptions['rateLimits'] {
  const given: Partial<Record<LimitName, number>> = {};
  for (const [name, flag] of LIMIT_FLAGS) {
    const value = flags[flagKey(flag)];
    if (value !== undefined) given[name] = parseInteger(value, flag.split(' ')[0]!, 1);
  }
  if (flags.rateLimit === 'on') return given;
  if (flags.rateLimit !== 'off') throw new CliError(`--rate-limit must be on or off, not "${flags.rateLimit}".`);
  if (Object.keys(given).length > 0) {
    throw new CliError('--rate-limit off cannot be combined with a --rate-limit-* limit.');
  }
  return 'off';
}

/** `--rate-limit-register-token <n>` → `rateLimitRegisterToken`, as commander names it. */
function flagKey(flag: string): Exclude<keyof RateLimitFlags, 'rateLimit'> {
  const name = flag.split(' ')[0]!.replace(/^--/, '');
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as Exclude<keyof RateLimitFlags, 'rateLimit'>;
}
