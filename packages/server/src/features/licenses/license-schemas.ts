import { z } from 'zod';
import { IsoDate, NameInput, TagInput } from '../../validation.js';

export const AddLicenseBody = z.object({
  tag: TagInput,
  count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000),
  name: NameInput.optional(),
  type: z.enum(['perpetual', 'term', 'subscription']).default('perpetual'),
  endsAt: IsoDate.optional(),
  /** The tag's parent tag: accepted when it has it already; only the owner may define it with the pool. */
  parent: TagInput.optional(),
});

export const TransferLicensesBody = z.object({
  tag: TagInput,
  count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000),
  toVaId: z.string().trim().min(1, 'must not be empty').max(64),
});
