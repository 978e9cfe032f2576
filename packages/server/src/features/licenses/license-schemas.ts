import { z } from 'zod';
import { IsoDate } from '../../validation.js';

export const AddLicenseBody = z.object({
  tag: z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
  count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000),
  name: z.string().trim().min(1, 'must not be empty').max(256).optional(),
  type: z.enum(['perpetual', 'term', 'subscription']).default('perpetual'),
  endsAt: IsoDate.optional(),
});

export const TransferLicensesBody = z.object({
  tag: z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
  count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000),
  toVaId: z.string().trim().min(1, 'must not be empty').max(64),
});
