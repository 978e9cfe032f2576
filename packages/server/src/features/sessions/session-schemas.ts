import { z } from 'zod';
import { RoleName } from '../users/user-schemas.js';
import { MAX_PASSWORD_LENGTH } from './password.js';

export const SignInBody = z.union([
  z
    .object({
      email: z.string().trim().toLowerCase().min(1).max(320).describe('an e-mail address, or "admin" for the owner'),
      password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
    })
    .strict(),
  z.object({ apiKey: z.string().trim().min(1).max(200).describe('an API key (slk_…)') }).strict(),
]);

export const PortalPrincipalView = z.object({
  kind: z.enum(['owner', 'user']),
  id: z.string(),
  email: z.string(),
  name: z.string(),
  grants: z
    .array(z.object({ accountId: z.string(), vaId: z.string().nullable(), role: RoleName }))
    .describe('empty for the owner, who may do everything'),
});

export const SessionAnswer = z.object({
  principal: PortalPrincipalView,
  csrfToken: z.string().describe('send it as X-CSRF-Token with every request other than GET/HEAD'),
  idleTimeoutSeconds: z.number().int(),
});
