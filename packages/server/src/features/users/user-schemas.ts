import { z } from 'zod';

export const RoleName = z.enum(['admin', 'user', 'viewer']);

export const CreateUserBody = z.object({
  email: z.email('must be an e-mail address').trim().toLowerCase().max(320),
  accountId: z.string().min(1),
  role: RoleName,
  vaId: z.string().min(1).optional(),
});

export const CreateKeyBody = z.object({ name: z.string().trim().min(1).max(200).optional() });

export const UserCreated = z.object({
  id: z.string(),
  email: z.string(),
  created: z.boolean().describe('false when the user existed and was only granted the role'),
  apiKey: z.string().describe('shown once'),
  keyId: z.string(),
});

export const GrantView = z.object({ accountId: z.string(), vaId: z.string().nullable(), role: RoleName });

export const UserView = z.object({
  id: z.string(),
  email: z.string(),
  createdAt: z.string(),
  roles: z.array(GrantView),
});

export const ApiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const ApiKeyCreated = ApiKeyView.extend({ apiKey: z.string().describe('shown once') });
