import { z } from 'zod';
import { IsoDate, NameInput, TagInput } from '../../validation.js';

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const quantity = z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000);

/** One SKU of a PAK as imported. */
export const PakSkuBody = z.object({
  sku: text(128),
  tag: TagInput,
  name: NameInput.optional(),
  quantity,
  type: z.enum(['perpetual', 'term', 'subscription']).default('perpetual'),
  endsAt: IsoDate.optional(),
});

/** `POST /accounts/:accountId/paks`. */
export const ImportPakBody = z.object({
  number: text(128),
  orderNumber: text(128).optional(),
  partialFulfilment: z.boolean().default(true),
  skus: z
    .array(PakSkuBody)
    .min(1, 'must name at least one SKU')
    .max(500)
    .refine((skus) => new Set(skus.map((s) => s.sku)).size === skus.length, 'must not name a SKU twice'),
});
export type ImportPakInput = z.output<typeof ImportPakBody>;

/** `POST /paks/:pakId/convert`: no lines converts everything still convertible. */
export const ConvertPakBody = z.object({
  vaId: text(64),
  lines: z
    .array(z.object({ sku: text(128), quantity }))
    .min(1, 'must name at least one SKU; omit lines to convert everything')
    .max(500)
    .optional(),
});
export type ConvertPakInput = z.output<typeof ConvertPakBody>;
