import { SmartlicError } from '@smartlic/protocol';
import { recordEvent } from '../../events/event-recorder.js';
import type { DeviceDeps } from '../device-deps.js';

/** A forced registration that named a UDI held by another Smart Account: where it came from and what it aimed at. */
export interface TakeoverAttempt {
  /** The instance that was left alone, and where it lives. */
  target: { instanceId: string; accountId: string | null; vaId: string };
  /** The token's Smart Account and VA, and the token. */
  source: { accountId: string; vaId: string; tokenId: string };
  pid: string;
  sn: string;
  hostname: string | null;
}

/**
 * "Product Already Registered", worded the same whether the UDI is held by the token's own Smart
 * Account (registered without force) or by another one (with or without force), so that the answer
 * tells nobody where a UDI lives. A refused takeover rides along in `context` (never answered) so
 * that it can be recorded once the transaction has rolled back.
 */
export function alreadyRegistered(pid: string, sn: string, takeover?: TakeoverAttempt): SmartlicError {
  return new SmartlicError('ALREADY_REGISTERED', {
    message:
      `Product Already Registered: PID:${pid} SN:${sn} is already registered. With force, only an instance of the ` +
      "token's own Smart Account can be replaced; one registered elsewhere must be removed there first.",
    ...(takeover ? { context: { takeover } } : {}),
  });
}

/**
 * Records a refused takeover in both event logs, in its own transaction (the registration's rolled
 * back): the token's account learns that its forced registration was refused, naming the UDI and the
 * token; the holder's account learns that an attempt on its instance was refused, without learning
 * who made it. Then rethrows `error`. Any other error is rethrown as it is.
 */
export async function recordTakeoverRefusal(
  deps: Pick<DeviceDeps, 'transactor' | 'clock'>,
  error: unknown,
): Promise<never> {
  const attempt = error instanceof SmartlicError ? (error.context.takeover as TakeoverAttempt | undefined) : undefined;
  if (!attempt) throw error;
  const at = deps.clock.now();
  const { target, source, pid, sn, hostname } = attempt;
  await deps.transactor.run(async (trx) => {
    await recordEvent(trx, {
      at,
      actor: `token:${source.tokenId}`,
      type: 'registration.refused',
      accountId: source.accountId,
      vaId: source.vaId,
      detail: {
        pid,
        sn,
        hostname,
        tokenId: source.tokenId,
        force: true,
        reason: 'registered in another Smart Account',
        message: 'A registration with force was refused: this UDI is registered in another Smart Account.',
      },
    });
    await recordEvent(trx, {
      at,
      actor: 'system',
      type: 'instance.takeover-refused',
      accountId: target.accountId,
      vaId: target.vaId,
      detail: {
        instanceId: target.instanceId,
        pid,
        sn,
        message: 'A registration with force from another Smart Account was refused; this instance was left as it was.',
      },
    });
  });
  throw error;
}
