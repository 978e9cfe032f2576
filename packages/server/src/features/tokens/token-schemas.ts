import { z } from 'zod';

export const CreateTokenBody = z.object({
  description: z.string().trim().max(1000, 'must be at most 1000 characters').optional(),
  days: z.number().int('must be a whole number').min(1, 'must be 1 to 365').max(365, 'must be 1 to 365').default(30),
  maxUses: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000).optional(),
  exportControlled: z.boolean().default(false),
});

/**
 * A token as listed. `token` is the value to copy, shown only to those who may create tokens
 * in the VA (user and admin roles); to the others (viewers) it is null and `tokenHint` its
 * last four characters, so that they can tell tokens apart.
 */
export const TokenView = z.object({
  id: z.string(),
  token: z.string().nullable(),
  tokenHint: z.string(),
  vaId: z.string(),
  description: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  maxUses: z.number().nullable(),
  uses: z.number(),
  exportControlled: z.boolean(),
  revokedAt: z.string().nullable(),
  status: z.enum(['ACTIVE', 'EXPIRED', 'REVOKED', 'USED_UP']),
});

/** A token as created or revoked (both need the right to create tokens): with its value. */
export const CreatedTokenView = TokenView.extend({ token: z.string() });
