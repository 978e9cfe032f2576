import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../sessions/password.js';

export const RoleName = z.enum(['admin', 'user', 'viewer']);

export const CreateUserBody = z.object({
  email: z.email('must be an e-mail address').trim().toLowerCase().max(320),
  accountId: z.string().min(1),
  role: RoleName,
  vaId: z.string().min(1).optional(),
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
    .max(MAX_PASSWORD_LENGTH)
    .optional()
    .describe('the portal password (only the owner, the user, or an admin of every place of the user may set it)'),
});

export const SetPasswordBody = z.object({
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
    .max(MAX_PASSWORD_LENGTH),
});

export const PasswordSet = z.object({
  userId: z.string().describe('"admin" for the owner'),
  email: z.string(),
  endedSessions: z.literal(true).describe("the user's portal sessions were ended"),
});

/** A place: a Smart Account, or with `vaId` one of its VAs. */
const PlaceFields = {
  accountId: z.string().min(1).max(200),
  vaId: z.string().min(1).max(200).optional(),
};

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    accountId: PlaceFields.accountId.optional().describe('limit the key to this Smart Account (or, with vaId, VA)'),
    vaId: PlaceFields.vaId,
  })
  .refine((b) => b.vaId === undefined || b.accountId !== undefined, {
    path: ['accountId'],
    message: 'is required with vaId',
  });

export const RemoveRoleQuery = z.object({
  accountId: PlaceFields.accountId.describe('the Smart Account of the role'),
  vaId: PlaceFields.vaId.describe('the VA of the role; absent: the role on the whole Smart Account'),
});

export const UserCreated = z.object({
  id: z.string(),
  email: z.string(),
  created: z
    .boolean()
    .describe(
      'true when the user had no role in this Smart Account before (whether or not the e-mail is known elsewhere)',
    ),
  apiKey: z
    .string()
    .describe(
      'shown once; scoped to the place the caller administers (unscoped when the owner key asks): it carries no right elsewhere',
    ),
  keyId: z.string(),
});

export const RoleRemoved = z.object({
  userId: z.string(),
  accountId: z.string(),
  vaId: z.string().nullable(),
  role: RoleName,
  revokedKeys: z.number().int().describe("the user's scoped keys that no longer carried any role, now revoked"),
});

export const GrantView = z.object({
  accountId: z.string(),
  accountName: z.string(),
  vaId: z.string().nullable(),
  vaName: z.string().nullable(),
  role: RoleName,
});

export const UserView = z.object({
  id: z.string(),
  email: z.string(),
  createdAt: z.string().describe('when the user first got a role in this Smart Account'),
  roles: z.array(GrantView),
});

export const KeyScopeView = z
  .object({ accountId: z.string(), vaId: z.string().nullable() })
  .nullable()
  .describe('the place the key is limited to; null: unscoped, it carries every role of its user');

export const ApiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  scope: KeyScopeView,
});

export const ApiKeyCreated = ApiKeyView.extend({ apiKey: z.string().describe('shown once') });
