import { randomUUID } from 'node:crypto';
import {
  type AckFile,
  checkAckFile,
  createCsr,
  newNonce,
  PROTOCOL_VERSION,
  parseWith,
  type Slac,
  type SlacLicense,
  type SlacRequestFile,
  SmartlicError,
  signEnvelope,
  trustCodeFields,
  USAGE_FILE_REPORTS_MAX,
  type UsageFile,
  verifyEnvelope,
  verifySignerChain,
} from '@smartlic/protocol/core';
import { refusedUse } from '../actions/use.js';
import type { Failure } from '../core/failure.js';
import { csrSubject } from '../device-key.js';
import { type AgentEvent, agentEvent } from '../events.js';
import type { Outcome, OutcomeAction } from '../outcome.js';
import type { AgentRuntime } from '../runtime.js';
import { formatDate } from '../time-format.js';
import { type PolicyRequestFields, type PolicyRequests, type PolicyResult, policyExchange } from './policy-exchange.js';
import {
  applyAck,
  cutReport,
  declareUse,
  emptyPolicyState,
  type PolicyState,
  policySchedule,
  type TrustCode,
} from './policy-state.js';
import { loadPolicyState, savePolicyState } from './policy-store.js';
import { checkSlacFileFor } from './slac-file-check.js';

/**
 * A named point between two steps of a policy-model operation. Tests pass `crashAt` to throw at one,
 * as a process killed there would stop, then reopen the state to check nothing was lost or doubled.
 */
export type PolicyStep = `${string}:${'before-save' | 'after-save' | 'before-send' | 'after-send'}`;

/**
 * The policy model of one device (SPEC §9): its `policy.json` state and the operations on it. Each
 * operation re-reads the file, and every change is saved atomically before anything is sent or
 * answered: a report is cut once (its measurements leave the open state in the same write that adds
 * it to the unacknowledged reports), sent until an ACK names it, and then forgotten. A report sent
 * again after a crash is recorded once by the authority (it records report ids once).
 */
export class PolicyRuntime {
  private constructor(
    private readonly rt: AgentRuntime,
    public state: PolicyState,
    private readonly crashAt: (step: PolicyStep) => void,
  ) {}

  /** Creates `policy.json` for a device initialised with `--model policy`. */
  static async create(rt: AgentRuntime): Promise<PolicyRuntime> {
    const state = emptyPolicyState();
    await savePolicyState(rt.deps.store.dir, rt.key, state);
    return new PolicyRuntime(rt, state, () => undefined);
  }

  /**
   * The policy model of a registration-model device switching to it (ADR 0018), in memory: its
   * declared usage becomes the open measurements from now. Nothing is written until a trust code is
   * installed, so a failed switch leaves the device as it was.
   */
  static switching(rt: AgentRuntime): PolicyRuntime {
    const state = emptyPolicyState();
    const now = rt.now();
    for (const u of rt.state.usage) {
      if (u.count > 0) state.open[u.tag] = { count: u.count, since: now, licenseClass: 'unenforced-perpetual' };
    }
    if (Object.keys(state.open).length > 0) state.firstUseAt = now;
    return new PolicyRuntime(rt, state, () => undefined);
  }

  /** The policy model of the device, or undefined when it runs the registration model. */
  static async load(
    rt: AgentRuntime,
    crashAt: (step: PolicyStep) => void = () => undefined,
  ): Promise<PolicyRuntime | undefined> {
    const state = await loadPolicyState(rt.deps.store.dir, rt.key);
    return state ? new PolicyRuntime(rt, state, crashAt) : undefined;
  }

  /** Re-reads `policy.json` (another process may have changed it). */
  async refresh(): Promise<void> {
    this.state = (await loadPolicyState(this.rt.deps.store.dir, this.rt.key)) ?? this.state;
  }

  private async save(step: string, next: PolicyState): Promise<void> {
    this.crashAt(`${step}:before-save`);
    if (next !== this.state) await savePolicyState(this.rt.deps.store.dir, this.rt.key, next);
    this.state = next;
    this.crashAt(`${step}:after-save`);
  }

  private emit(event: AgentEvent): void {
    this.rt.emit(event);
  }

  private udi() {
    return { pid: this.rt.state.identity.pid, sn: this.rt.state.identity.sn };
  }

  private fail(action: OutcomeAction, failure: Failure, event?: AgentEvent['type']): Outcome {
    if (event) this.emit(agentEvent(event, this.rt.now(), failure.reason));
    return { action, ok: false, message: failure.reason, ...(failure.code ? { code: failure.code } : {}) };
  }

  /**
   * Sends one message of the installed trust code: `fields` with the instance, its certificate
   * serials, a fresh nonce and the time, signed with the trust-code key; the answer is verified
   * against the signing certificate that came with the trust code.
   */
  private exchange<K extends Exclude<keyof PolicyRequests, 'trust'>>(
    kind: K,
    trust: TrustCode,
    fields: PolicyRequestFields<K>,
  ): Promise<PolicyResult<K>> {
    const payload = {
      ...fields,
      version: PROTOCOL_VERSION,
      timestamp: this.rt.wallNow(),
      nonce: newNonce(),
      instanceId: trust.instanceId,
      idCertSerial: trust.idCertSerial,
      signingCertSerial: trust.signingCertSerial,
    } as PolicyRequests[K];
    return policyExchange(
      kind,
      payload,
      { key: this.rt.key.pair.privateKey, certSerial: trust.idCertSerial, signingCertPem: trust.signingCertificate },
      this.rt.exchangeSettings(),
    );
  }

  /** Installs a SLAC: its tags' open measurements become enforced. */
  private async installSlac(slac: Slac, action: OutcomeAction): Promise<Outcome> {
    const next = structuredClone(this.state);
    next.slacs.push(slac);
    for (const l of slac.licenses) {
      const open = next.open[l.tag];
      if (open) open.licenseClass = 'enforced';
    }
    await this.save('slac', next);
    const message = `Authorization code installed for ${slac.licenses.map((l) => `${l.tag} (${l.count})`).join(', ')}.`;
    this.emit(agentEvent('AUTHORIZATION_INSTALL_SUCCESS', this.rt.now(), message));
    return { action, ok: true, message };
  }

  /** `license smart trust idtoken TOKEN [local|all] [force]`. */
  async trust(idToken: string, scope: 'local' | 'all', force: boolean): Promise<Outcome> {
    await this.refresh();
    if (typeof idToken !== 'string' || idToken.trim() === '' || idToken.length > 512) {
      return { action: 'trust', ok: false, code: 'BAD_REQUEST', message: 'The ID token must be 1–512 characters.' };
    }
    if (this.state.trust && !force) {
      const message = 'A trust code is already installed; install it with force to replace it.';
      return { action: 'trust', ok: false, code: 'ALREADY_REGISTERED', message };
    }
    const trustFailure = await this.rt.ensureTrust();
    if (trustFailure) return this.fail('trust', trustFailure, 'TRUST_INSTALL_FAILED');
    const { identity } = this.rt.state;
    const csr = await createCsr(this.rt.key.pair, csrSubject(identity.pid, identity.sn));
    const result = await policyExchange(
      'trust',
      {
        type: 'trust',
        version: PROTOCOL_VERSION,
        timestamp: this.rt.wallNow(),
        nonce: newNonce(),
        idToken: idToken.trim(),
        softwareTag: identity.softwareTag,
        udi: this.udi(),
        ...(identity.hostname ? { hostname: identity.hostname } : {}),
        csr,
        force,
        scope,
      },
      { key: this.rt.key.pair.privateKey, certSerial: 'csr', publicKey: this.rt.key.pair.publicKey },
      this.rt.exchangeSettings(),
    );
    if (!result.ok) return this.fail('trust', result.failure, 'TRUST_INSTALL_FAILED');
    const r = result.payload;
    const now = this.rt.now();
    const next = structuredClone(this.state);
    next.trust = { ...trustCodeFields(r), installedAt: now, scope };
    next.policy = r.policy;
    // Reports signed under a replaced trust code belong to the old product instance: they cannot be acknowledged now.
    next.unacked = next.unacked.filter((report) => report.payload.instanceId === r.instanceId);
    await this.save('trust', next);
    const message = `A new licensing trust code was successfully installed on P:${identity.pid},S:${identity.sn} (${r.virtualAccount.name}).`;
    this.emit(agentEvent('TRUST_INSTALL_SUCCESS', now, message));
    return { action: 'trust', ok: true, message };
  }

  /** The product declares `count` of `tag` in use: measured into the next RUM report. */
  async use(tag: string, count: number): Promise<Outcome> {
    await this.refresh();
    const refused = refusedUse(tag, count);
    if (refused) return refused;
    await this.save('use', declareUse(this.state, tag, count, this.rt.now()));
    const declared = count === 0 ? `${tag} is no longer in use` : `${tag}: ${count} in use`;
    return { action: 'use', ok: true, message: `${declared}; it is measured for the next usage report.` };
  }

  /** Cuts a report of what was measured up to now (if anything was), signed with the trust-code key, and saves it. */
  private async cut(): Promise<void> {
    const now = this.rt.now();
    const cut = cutReport(this.state, now, { reportId: randomUUID(), udi: this.udi() });
    if (!cut || !this.state.trust) return;
    const signed = signEnvelope(cut.report, this.rt.key.pair.privateKey, this.state.trust.idCertSerial);
    await this.save('cut', { ...cut.state, unacked: [...cut.state.unacked, signed] });
  }

  /** `license smart sync all`: reports what is unacknowledged to the authority and takes its ACK. */
  async sync(): Promise<Outcome> {
    await this.refresh();
    const trust = this.state.trust;
    if (!trust) {
      return {
        action: 'sync',
        ok: false,
        code: 'NOT_REGISTERED',
        message: 'No trust code is installed: install one with license smart trust idtoken TOKEN.',
      };
    }
    await this.cut();
    const reports = this.state.unacked.slice(0, 100);
    this.crashAt('sync:before-send');
    const result = await this.exchange('usage', trust, { type: 'usage', reports });
    this.crashAt('sync:after-send');
    if (!result.ok) return this.fail('sync', result.failure, 'REPORTING_FAILED');
    const ack = result.payload.ack;
    if (!verifyEnvelope(ack, result.signer.publicKey) || ack.payload.instanceId !== trust.instanceId) {
      return this.fail(
        'sync',
        { reason: 'Data and signature do not match', code: 'SIGNATURE_MISMATCH', retryable: false, transport: false },
        'REPORTING_FAILED',
      );
    }
    const now = this.rt.now();
    const next = applyAck(this.state, ack.payload, now);
    next.lastReportPushAt = now;
    await this.takeAck(next, ack.payload.policy.name, 'sync');
    const left = next.unacked.length;
    const message = `Usage reported: ${reports.length} report(s) acknowledged${left > 0 ? `, ${left} still to send` : ''}; ACK received ${formatDate(now)}.`;
    return { action: 'sync', ok: true, message };
  }

  private async takeAck(next: PolicyState, policyName: string, step: string): Promise<void> {
    const changedPolicy = JSON.stringify(next.policy) !== JSON.stringify(this.state.policy);
    await this.save(step, next);
    const now = this.rt.now();
    this.emit(agentEvent('ACK_RECEIVED', now, `An acknowledgement of usage reports was received (${policyName})`));
    if (changedPolicy)
      this.emit(
        agentEvent('POLICY_INSTALL_SUCCESS', now, `A new licensing policy was successfully installed: ${policyName}`),
      );
  }

  /**
   * `license smart save usage all|unreported FILE`: the usage file (the caller writes it). `all`:
   * every unacknowledged report; `unreported`: those not yet written to a file.
   */
  async saveUsage(which: 'all' | 'unreported'): Promise<UsageFile> {
    await this.refresh();
    const trust = this.state.trust;
    if (!trust) {
      throw new SmartlicError('NOT_REGISTERED', {
        message: 'No trust code is installed: usage reports are signed with it; install one first.',
      });
    }
    await this.cut();
    const written = new Set(this.state.written);
    const reports = this.state.unacked
      .filter((r) => which === 'all' || !written.has(r.payload.reportId))
      .slice(0, USAGE_FILE_REPORTS_MAX);
    const now = this.rt.now();
    const next = structuredClone(this.state);
    next.written = [...new Set([...next.written, ...reports.map((r) => r.payload.reportId)])];
    next.lastReportFileWriteAt = now;
    await this.save('save-usage', next);
    return {
      format: 'smartlic-usage',
      version: PROTOCOL_VERSION,
      udi: this.udi(),
      instanceId: trust.instanceId,
      createdAt: now,
      reports,
    };
  }

  /** `license smart import FILE`: an ACK file; refused unless signed under a trust anchor and for this device. */
  async importAck(text: string): Promise<Outcome> {
    await this.refresh();
    const trust = this.state.trust;
    const refuse = (message: string): Outcome => ({ action: 'import', ok: false, code: 'BAD_REQUEST', message });
    if (!trust) return refuse('No trust code is installed: an ACK can only be imported by a device that reports.');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return refuse('The file is not an ACK file (not JSON).');
    }
    if ((json as { format?: unknown } | null)?.format === 'smartlic-slac') return this.importSlac(json);
    const parsed = parseWith(checkAckFile, json);
    if (!parsed.ok) return refuse(`The file is not an ACK file: ${parsed.problem}.`);
    const file: AckFile = parsed.value;
    const udi = this.udi();
    const ack = file.ack.payload;
    if (
      file.udi.pid !== udi.pid ||
      file.udi.sn !== udi.sn ||
      ack.udi.pid !== udi.pid ||
      ack.udi.sn !== udi.sn ||
      ack.instanceId !== trust.instanceId
    ) {
      return refuse(`This ACK is for another product (PID:${ack.udi.pid} SN:${ack.udi.sn}); it was not imported.`);
    }
    let signerKey: ReturnType<typeof verifySignerChain>;
    try {
      signerKey = verifySignerChain(
        file.signingCertificate,
        this.rt.state.trust.anchors,
        this.rt.now(),
        file.chain ?? [],
      );
    } catch {
      return {
        action: 'import',
        ok: false,
        code: 'SIGNATURE_MISMATCH',
        message: 'Data and signature do not match: the ACK is not signed by a trusted authority.',
      };
    }
    const raw = (json as { ack: { payload: unknown } }).ack;
    if (
      file.ack.signature.certSerial !== signerKey.serial ||
      !verifyEnvelope({ payload: raw.payload, signature: file.ack.signature }, signerKey.publicKey)
    ) {
      return {
        action: 'import',
        ok: false,
        code: 'SIGNATURE_MISMATCH',
        message: 'Data and signature do not match: the ACK was altered.',
      };
    }
    if (this.state.lastAck?.ackId === ack.ackId) {
      return { action: 'import', ok: true, message: 'This ACK was imported already; nothing changed.' };
    }
    if (this.state.lastAck && ack.issuedAt < this.state.lastAck.issuedAt) {
      // An older ACK would bring back an older policy and move the deadlines back.
      return refuse('This ACK is older than the last one received; it was not imported.');
    }
    const next = applyAck(this.state, ack, this.rt.now());
    await this.takeAck(next, ack.policy.name, 'import');
    return { action: 'import', ok: true, message: `ACK imported: ${ack.reportIds.length} report(s) acknowledged.` };
  }

  /**
   * What is due now: a report push when the policy asks for periodic reporting, and the missed ACK
   * deadline (`%SMART_LIC-3-REPORTING_REQUIRED`, once per deadline; the product keeps working).
   */
  async runDue(): Promise<Outcome[]> {
    await this.refresh();
    const outcomes: Outcome[] = [];
    const now = this.rt.now();
    const schedule = policySchedule(this.state);
    if (
      schedule.nextReportPush !== undefined &&
      schedule.nextReportPush <= now &&
      this.rt.state.destination &&
      this.state.trust
    ) {
      outcomes.push(await this.sync());
    }
    const after = policySchedule(this.state);
    const deadline = after.nextAckDeadline;
    if (deadline !== undefined && deadline <= now && this.state.reportingRequiredFor !== deadline) {
      await this.save('reporting-required', { ...structuredClone(this.state), reportingRequiredFor: deadline });
      const message = `A Usage report acknowledgement will be required in 0 days (the ACK deadline was ${formatDate(deadline)}): report with license smart sync all, or save usage to a file and import the ACK.`;
      this.emit(agentEvent('REPORTING_REQUIRED', now, message));
    }
    return outcomes;
  }

  /** When `runDue` next has something to do (agent time), or undefined. */
  nextWakeAt(): number | undefined {
    const s = policySchedule(this.state);
    const deadline =
      s.nextAckDeadline !== undefined && this.state.reportingRequiredFor !== s.nextAckDeadline
        ? s.nextAckDeadline
        : undefined;
    const push = this.rt.state.destination && this.state.trust ? s.nextReportPush : undefined;
    const times = [deadline, push].filter((t): t is number => t !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** `license smart authorization request add TAG local`: asks the authority for a SLAC and installs it. */
  async requestAuthorization(licenses: SlacLicense[]): Promise<Outcome> {
    await this.refresh();
    const trust = this.state.trust;
    if (!trust) {
      return {
        action: 'authorization',
        ok: false,
        code: 'NOT_REGISTERED',
        message: 'No trust code is installed: install one before asking for an authorization code.',
      };
    }
    const result = await this.exchange('slac', trust, { type: 'slac', licenses });
    if (!result.ok) return this.fail('authorization', result.failure);
    return this.installSlac(result.payload.slac, 'authorization');
  }

  /**
   * `license smart authorization request save FILE`: the signed SLAC request file (the caller writes
   * it), answered by `admin authorization import` and loaded with `license smart import`.
   */
  async saveAuthorizationRequest(licenses: SlacLicense[]): Promise<SlacRequestFile> {
    await this.refresh();
    const trust = this.state.trust;
    if (!trust) {
      throw new SmartlicError('NOT_REGISTERED', {
        message: 'No trust code is installed: an authorization request is signed with it; install one first.',
      });
    }
    const udi = this.udi();
    const payload = {
      type: 'slac-file-request' as const,
      version: PROTOCOL_VERSION as typeof PROTOCOL_VERSION,
      requestId: randomUUID(),
      instanceId: trust.instanceId,
      idCertSerial: trust.idCertSerial,
      udi,
      licenses,
      createdAt: this.rt.now(),
    };
    const request = signEnvelope(payload, this.rt.key.pair.privateKey, trust.idCertSerial);
    return { format: 'smartlic-slac-request', version: PROTOCOL_VERSION, udi, instanceId: trust.instanceId, request };
  }

  /** A SLAC file (`license smart import FILE`): installed once, if signed under a trust anchor and for this device. */
  private async importSlac(json: unknown): Promise<Outcome> {
    const trust = this.state.trust;
    if (!trust) return { action: 'import', ok: false, code: 'BAD_REQUEST', message: 'No trust code is installed.' };
    const checked = checkSlacFileFor(
      json,
      { instanceId: trust.instanceId, udi: this.udi() },
      this.rt.state.trust.anchors,
      this.rt.now(),
    );
    if (!checked.ok) return { action: 'import', ok: false, code: checked.code, message: checked.message };
    const slac = checked.slac;
    if (this.state.slacs.some((s) => s.slacId === slac.slacId)) {
      return { action: 'import', ok: true, message: 'This authorization code was imported already; nothing changed.' };
    }
    return this.installSlac(slac, 'import');
  }

  /** `license smart authorization return local`: gives every installed SLAC back. */
  async returnAuthorization(): Promise<Outcome> {
    await this.refresh();
    const trust = this.state.trust;
    if (!trust || this.state.slacs.length === 0) {
      return { action: 'authorization', ok: false, code: 'NOT_FOUND', message: 'No authorization code is installed.' };
    }
    for (const slac of [...this.state.slacs]) {
      const result = await this.exchange('slacReturn', trust, { type: 'slac-return', slacId: slac.slacId });
      if (!result.ok) return this.fail('authorization', result.failure);
      await this.save('slac-return', {
        ...structuredClone(this.state),
        slacs: this.state.slacs.filter((s) => s.slacId !== slac.slacId),
      });
    }
    const message = 'Authorization code returned.';
    this.emit(agentEvent('AUTHORIZATION_RETURN_SUCCESS', this.rt.now(), message));
    return { action: 'authorization', ok: true, message };
  }
}
