import { readFile } from 'node:fs/promises';
import {
  Agent,
  formatAll,
  formatEventLogLine,
  formatStatus,
  formatSummary,
  formatUsage,
  type Outcome,
  readEventLog,
} from '@smartlic/agent';
import { Command } from 'commander';
import { CliError, parseInteger, print, writeText } from '../../output.js';
import { conversionCommand } from './conversion-command.js';
import { agentOptions, openDevice, openDeviceToRead, stateDirOf } from './device-context.js';
import { addPolicyCommands } from './policy-command.js';
import { reservationCommand } from './reservation-command.js';
import { runCommand } from './run-command.js';

/** Prints an action's outcome (and the status with --json); a failed outcome becomes the command's error. */
async function report(agent: Agent, outcome: Outcome, opts: { json?: boolean }, failurePrefix = ''): Promise<void> {
  if (opts.json) print({ outcome, status: agent.status() }, opts, () => '');
  if (!outcome.ok) throw new CliError(`${failurePrefix}${outcome.message}`);
  if (opts.json) return;
  writeText(process.stdout, `${outcome.message}\n`);
  // What the action set off at once (the authorization after a registration) is reported too;
  // it does not fail the command: the agent retries it on its own schedule.
  for (const followUp of outcome.followUps ?? []) {
    writeText(followUp.ok ? process.stdout : process.stderr, `${followUp.ok ? '' : 'Warning: '}${followUp.message}\n`);
  }
}

/** `smartlic device …`: acts as one product instance whose state lives in --state DIR. */
export function deviceCommand(): Command {
  const device = new Command('device')
    .description('act as a product instance (the Smart Agent) whose state lives in a directory')
    .option('--state <dir>', 'state directory (default: $SMARTLIC_DEVICE_STATE or ./device-state)');

  device
    .command('init')
    .description('create the device: its identity, key and state')
    .requiredOption('--pid <pid>', 'product id')
    .option('--sn <sn>', 'serial number (default: a random one)')
    .option('--hostname <name>', 'hostname to report (default: not shared)')
    .option('--profile <profile>', 'enforcement profile: cusp, catalyst, expressway, …', 'catalyst')
    .option('--software-tag <tag>', 'software tag identifying the product')
    .option(
      '--model <model>',
      'licensing model: registration, or policy (Smart Licensing Using Policy)',
      'registration',
    )
    .option(
      '--existing <what>',
      'when the state directory holds a device already: fail (the default) or reuse it',
      'fail',
    )
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          pid: string;
          sn?: string;
          hostname?: string;
          profile: string;
          softwareTag?: string;
          model: string;
          existing: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.model !== 'registration' && opts.model !== 'policy') {
          throw new CliError(`--model must be registration or policy, not "${opts.model}".`);
        }
        if (opts.existing !== 'fail' && opts.existing !== 'reuse') {
          throw new CliError(`--existing must be fail or reuse, not "${opts.existing}".`);
        }
        const create = () =>
          Agent.init(
            {
              pid: opts.pid,
              profile: opts.profile,
              model: opts.model as 'registration' | 'policy',
              ...(opts.sn ? { sn: opts.sn } : {}),
              ...(opts.hostname ? { hostname: opts.hostname } : {}),
              ...(opts.softwareTag ? { softwareTag: opts.softwareTag } : {}),
            },
            agentOptions(cmd),
          );
        let agent: Agent;
        try {
          agent = await create();
        } catch (error) {
          if (opts.existing !== 'reuse' || (error as { code?: unknown }).code !== 'ALREADY_INITIALISED') throw error;
          const existing = (await openDeviceToRead(cmd)).status();
          const { pid, sn } = existing.identity;
          const existingModel = existing.policy ? 'policy' : 'registration';
          if (existingModel !== opts.model) {
            throw new CliError(
              `${stateDirOf(cmd)} holds a device of the ${existingModel} model, not ${opts.model}; it was left as it was.`,
            );
          }
          if (pid !== opts.pid || (opts.sn !== undefined && sn !== opts.sn)) {
            throw new CliError(
              `${stateDirOf(cmd)} holds another device (PID:${pid} SN:${sn}), not PID:${opts.pid}${opts.sn ? ` SN:${opts.sn}` : ''}; it was left as it was.`,
            );
          }
          print(
            existing,
            opts,
            (st) =>
              `Device PID:${st.identity.pid} SN:${st.identity.sn} exists already in ${stateDirOf(cmd)}; it was left as it was.`,
          );
          return;
        }
        const status = agent.status();
        print(
          status,
          opts,
          (s) =>
            `Device initialised: PID:${s.identity.pid} SN:${s.identity.sn}; ${s.policy ? 'Smart Licensing Using Policy is enabled' : 'smart licensing is enabled'}.`,
        );
      },
    );

  const callHome = device.command('call-home').description('call-home settings');
  callHome
    .command('destination <url>')
    .description('where the device sends its messages: the authority, or a satellite (URL ending /SmartTransport)')
    .option('--proxy <url>', 'HTTP(S) proxy to go through')
    .option(
      '--root <pemFile>',
      "the authority's root CA (pki/root-ca.pem), trusted to sign licensing answers; without it the root is fetched and pinned on first use",
    )
    .option(
      '--trust <pemFile>',
      'PEM file of extra TLS trust points (e.g. the CA of a TLS-intercepting proxy), trusted for HTTPS only, never to sign answers',
    )
    .action(async (url: string, opts: { proxy?: string; root?: string; trust?: string }, cmd: Command) => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new CliError(`"${url}" is not a URL (example: https://licensing.example.com).`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        throw new CliError('The destination must be an http or https URL.');
      const authorityRootPem = await readPem(opts.root, 'authority root certificate');
      const trustPem = await readPem(opts.trust, 'trust point');
      const agent = await openDevice(cmd);
      const result = await agent.setDestination(url, {
        ...(authorityRootPem ? { authorityRootPem } : {}),
        ...(trustPem ? { trustPem } : {}),
        ...(opts.proxy ? { proxy: opts.proxy } : {}),
      });
      const transport = agent.status().transport;
      const via = transport.proxy ? ` through the HTTP proxy ${transport.proxy}` : '';
      writeText(process.stdout, `Call-home destination set to ${url} (${transport.type}${via})\n`);
      if (result.pinnedFingerprint) {
        process.stdout.write(`Trusting the server's root CA, SHA-256 fingerprint ${result.pinnedFingerprint}\n`);
      }
      if (result.warning) writeText(process.stderr, `Warning: ${result.warning}\n`);
    });

  device
    .command('use <tag> <count>')
    .description('the product declares how many of an entitlement it uses (0: none)')
    .option('--json', 'print JSON')
    .action(async (tag: string, count: string, opts: { json?: boolean }, cmd: Command) => {
      const agent = await openDevice(cmd);
      const outcome = await agent.use(tag, parseInteger(count, 'COUNT', 0));
      await report(agent, outcome, opts, 'Usage recorded, but ');
    });

  device.addCommand(licenseCommand());
  device.addCommand(showCommand());
  device.addCommand(runCommand());
  return device;
}

function licenseCommand(): Command {
  const license = new Command('license').description('license commands');
  const smart = license.command('smart').description('smart licensing');
  smart
    .command('register <idtoken> <token> [force]')
    .description('register with an ID token: license smart register idtoken TOKEN [force]')
    .option('--json', 'print JSON')
    .action(
      async (keyword: string, token: string, force: string | undefined, opts: { json?: boolean }, cmd: Command) => {
        if (keyword !== 'idtoken') throw new CliError('Usage: license smart register idtoken TOKEN [force]');
        if (force !== undefined && force !== 'force')
          throw new CliError(`Unknown word "${force}": only "force" may follow the token.`);
        const agent = await openDevice(cmd);
        await report(agent, await agent.register(token, { force: force === 'force' }), opts, 'Registration failed: ');
      },
    );
  smart
    .command('deregister')
    .description('deregister the device and release its licenses')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const agent = await openDevice(cmd);
      await report(agent, await agent.deregister(), opts);
    });
  smart
    .command('renew <what>')
    .description('renew now: id (the ID certificate) or auth (the authorization)')
    .option('--json', 'print JSON')
    .action(async (what: string, opts: { json?: boolean }, cmd: Command) => {
      if (what !== 'id' && what !== 'auth') throw new CliError('Usage: license smart renew id|auth');
      const agent = await openDevice(cmd);
      const outcome = what === 'id' ? await agent.renewId() : await agent.renewAuthorization();
      await report(agent, outcome, opts, 'Renewal failed: ');
    });
  smart.addCommand(reservationCommand());
  smart.addCommand(conversionCommand());
  addPolicyCommands(smart);
  return license;
}

const VIEWS = {
  status: formatStatus,
  summary: formatSummary,
  usage: formatUsage,
  all: formatAll,
} as const;

function showCommand(): Command {
  const show = new Command('show').description('show device state');
  show
    .command('license <what>')
    .description('show license status|summary|all|usage|eventlog')
    .option('--json', 'print JSON')
    .action(async (what: string, opts: { json?: boolean }, cmd: Command) => {
      if (what === 'eventlog') {
        // Read straight from the directory, so that the log also shows when the state does not open.
        const events = await readEventLog(stateDirOf(cmd));
        if (events.length === 0) await openDeviceToRead(cmd); // says why: not initialised, or damaged
        print(events, opts, (list) =>
          list.length ? list.map(formatEventLogLine).join('\n') : 'The event log is empty.',
        );
        return;
      }
      const view = VIEWS[what as keyof typeof VIEWS];
      if (!view) throw new CliError(`Unknown view "${what}": use status, summary, all, usage or eventlog.`);
      // Keeps the clock reading, so that a clock set back after this look is noticed; while another
      // process (`device run`) holds the state, it reads without keeping anything: that one keeps time.
      const agent = await openDeviceToRead(cmd);
      print(await agent.readStatus(), opts, view);
    });
  return show;
}

/** The PEM text of a `--root`/`--trust` file (`what` names it in errors), if one was given. */
async function readPem(path: string | undefined, what: string): Promise<string | undefined> {
  if (!path) return undefined;
  const pem = await readFile(path, 'utf8').catch(() => {
    throw new CliError(`Cannot read the ${what} file ${path}.`);
  });
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`${path} holds no PEM certificate.`);
  return pem;
}
