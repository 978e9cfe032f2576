import type { KeyObject } from 'node:crypto';
import { randomBytes, randomUUID } from 'node:crypto';
import type { ComplianceStatus, EntitlementUsage } from '@smartlic/protocol';

/** An ID token of the fake authority. */
export interface FakeToken {
  token: string;
  exportControlled: boolean;
  expiresAt: number;
  maxUses: number;
  uses: number;
  revoked: boolean;
}

/** A registered product instance of the fake authority. */
export interface FakeInstance {
  instanceId: string;
  pid: string;
  sn: string;
  hostname?: string;
  softwareTag: string;
  idCertSerial: string;
  idCertExpiresAt: number;
  publicKey: KeyObject;
  usage: EntitlementUsage[];
  lastContact: number;
}

/** Tokens, license pools and instances of the fake authority, and its compliance arithmetic. */
export class FakeLedger {
  readonly tokens = new Map<string, FakeToken>();
  readonly pools = new Map<string, { quantity: number; displayName?: string }>();
  readonly instances = new Map<string, FakeInstance>();
  readonly seenNonces = new Set<string>();

  /** A new token; by default valid 30 days from `now`, 10 uses, export control not allowed. */
  createToken(now: number, options: Partial<Omit<FakeToken, 'token' | 'uses'>> = {}): FakeToken {
    const token: FakeToken = {
      // `T` first, as the authority's tokens: a value beginning with '-' reads as an option on a command line.
      token: `T${randomBytes(24).toString('base64url')}`,
      exportControlled: options.exportControlled ?? false,
      expiresAt: options.expiresAt ?? now + 30 * 24 * 60 * 60 * 1000,
      maxUses: options.maxUses ?? 10,
      uses: 0,
      revoked: options.revoked ?? false,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  /** Why a token cannot register now, as an error code, or undefined when it can. */
  tokenProblem(
    value: string,
    now: number,
  ): 'TOKEN_INVALID' | 'TOKEN_REVOKED' | 'TOKEN_EXPIRED' | 'TOKEN_USED_UP' | undefined {
    const token = this.tokens.get(value);
    if (!token) return 'TOKEN_INVALID';
    if (token.revoked) return 'TOKEN_REVOKED';
    if (now >= token.expiresAt) return 'TOKEN_EXPIRED';
    if (token.uses >= token.maxUses) return 'TOKEN_USED_UP';
    return undefined;
  }

  /** The instance registered with this UDI, if any. */
  byUdi(pid: string, sn: string): FakeInstance | undefined {
    return [...this.instances.values()].find((i) => i.pid === pid && i.sn === sn);
  }

  /** A fresh product instance id. */
  newInstanceId(): string {
    return randomUUID();
  }

  /** Compliance of each tag an instance requests, given every instance's usage and the pools. */
  compliance(
    usage: EntitlementUsage[],
  ): { tag: string; requested: number; status: ComplianceStatus; displayName?: string }[] {
    return usage.map((u) => {
      const inUse = [...this.instances.values()]
        .flatMap((i) => i.usage)
        .filter((x) => x.tag === u.tag)
        .reduce((sum, x) => sum + x.count, 0);
      const pool = this.pools.get(u.tag);
      const status: ComplianceStatus = inUse <= (pool?.quantity ?? 0) ? 'InCompliance' : 'OutOfCompliance';
      return {
        tag: u.tag,
        requested: u.count,
        status,
        ...(pool?.displayName ? { displayName: pool.displayName } : {}),
      };
    });
  }
}
