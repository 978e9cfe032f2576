import {
  AckFile,
  Envelope,
  LicenseClassSchema,
  POLICY_DAYS_MAX,
  POLICY_ROUTES,
  Policy,
  SlacFile,
  SlacRequest,
  SlacRequestFile,
  SlacResponse,
  SlacReturnRequest,
  SlacReturnResponse,
  TrustRequest,
  TrustResponse,
  UsageFile,
  UsageRequest,
  UsageResponse,
} from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RateLimiter } from '../../http/rate-limits.js';
import { actorOf } from '../../http/route-access.js';
import { adminRoute, publicRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byInstance, byVa, target } from '../access/route-targets.js';
import type { PolicyService } from './policy-service.js';

/** Largest usage file `admin usage import` takes (a file holds up to 10,000 signed reports). */
export const USAGE_IMPORT_BODY_LIMIT = 16 * 1024 * 1024;

function deviceDoc(summary: string, request: z.ZodType, response: z.ZodType) {
  return publicRoute({
    summary,
    body: Envelope.extend({ payload: request }),
    response: Envelope.extend({ payload: response }),
  });
}

/** The device routes of Smart Licensing Using Policy: trust code, usage reports, SLAC. */
export function registerPolicyDeviceRoutes(app: FastifyInstance, policy: PolicyService, limits: RateLimiter): void {
  const perInstance = { preHandler: limits.device };
  app.post(
    POLICY_ROUTES.trust,
    {
      config: deviceDoc('Install a trust code with a token (policy model)', TrustRequest, TrustResponse),
      preHandler: limits.register,
    },
    async (request) => policy.trust(policy.accept('trust', request.body)),
  );
  app.post(
    POLICY_ROUTES.usage,
    {
      config: deviceDoc('Report usage (signed RUM reports); answers the signed ACK', UsageRequest, UsageResponse),
      ...perInstance,
    },
    async (request) => policy.usage(policy.accept('usage', request.body)),
  );
  app.post(
    POLICY_ROUTES.slac,
    { config: deviceDoc('Ask for a Smart Licensing Authorization Code', SlacRequest, SlacResponse), ...perInstance },
    async (request) => policy.slac(policy.accept('slac', request.body)),
  );
  app.post(
    POLICY_ROUTES.slacReturn,
    {
      config: deviceDoc('Return a Smart Licensing Authorization Code', SlacReturnRequest, SlacReturnResponse),
      ...perInstance,
    },
    async (request) => policy.slacReturn(policy.accept('slac-return', request.body)),
  );
}

const days = z.number().int().min(0).max(POLICY_DAYS_MAX);

/** `admin policy set`: a VA's custom terms for one license class. */
export const PolicySetBody = z.object({
  licenseClass: LicenseClassSchema,
  firstReportDays: days,
  reportingFrequencyDays: days,
  onChangeDays: days,
});

/** What `admin usage import` answers. */
export const UsageImportAnswer = z.object({
  reports: z.number(),
  acknowledged: z.number(),
  recorded: z.number(),
  ackFile: AckFile,
});

/** What `admin authorization import` answers. */
export const SlacFileAnswerBody = z.object({ slacId: z.string(), issued: z.boolean(), slacFile: SlacFile });

/** The admin routes of the policy model: usage import, SLAC by file, a VA's policy. */
export function registerPolicyAdminRoutes(app: FastifyInstance, policy: PolicyService): void {
  app.post<{ Params: { instanceId: string } }>(
    '/api/v1/instances/:instanceId/usage-reports',
    {
      bodyLimit: USAGE_IMPORT_BODY_LIMIT,
      config: adminRoute('write', target.va(byInstance()), {
        summary: "Import a policy device's usage file (offline RUM reports); answers the ACK file",
        body: UsageFile,
        response: UsageImportAnswer,
      }),
    },
    async (request) => {
      const file = parseInput(UsageFile, request.body);
      return policy.importUsage(request.params.instanceId, file, request.body, actorOf(request));
    },
  );
  app.post<{ Params: { instanceId: string } }>(
    '/api/v1/instances/:instanceId/slac-requests',
    {
      config: adminRoute('write', target.va(byInstance()), {
        summary: "Answer a policy device's SLAC request file; answers the SLAC file",
        body: SlacRequestFile,
        response: SlacFileAnswerBody,
      }),
    },
    async (request) => {
      const file = parseInput(SlacRequestFile, request.body);
      return policy.importSlacRequest(request.params.instanceId, file, request.body, actorOf(request));
    },
  );
  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/policy',
    {
      config: adminRoute('admin', target.va(byVa()), {
        summary: "Set a VA's custom policy for one license class (reaches devices in their next ACK)",
        body: PolicySetBody,
        response: Policy,
      }),
    },
    async (request) => {
      const body = parseInput(PolicySetBody, request.body);
      return policy.setPolicy(request.params.vaId, body, actorOf(request));
    },
  );
  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/policy',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: "A VA's policy: the defaults with its custom terms",
        response: Policy,
      }),
    },
    async (request) => policy.getPolicy(request.params.vaId),
  );
}
