import { z } from 'zod';
import { TagInput } from '../../validation.js';

const license = z.strictObject({ tag: TagInput, count: z.number().int().min(1).max(1_000_000_000) });

export const ReservationSettingsBody = z.strictObject({ allowed: z.boolean() });

/** SLR: `licenses`; PLR goes through its own route. `requestCode` as printed by the device. */
export const CreateReservationBody = z.strictObject({
  requestCode: z.string().min(1).max(1000),
  licenses: z.array(license).min(1).max(200),
});

export const CreatePlrBody = z.strictObject({ requestCode: z.string().min(1).max(1000) });

export const UpdateReservationBody = z.strictObject({ licenses: z.array(license).min(1).max(200) });

export const ReservationCodeBody = z.strictObject({ code: z.string().min(1).max(1000) });

export const CreatedReservationAnswer = z.object({ id: z.uuid(), instanceId: z.uuid(), authorizationCode: z.string() });

export const ReservationAnswer = z.object({
  id: z.uuid(),
  instanceId: z.uuid(),
  status: z.enum(['reserved', 'pending-confirmation', 'returned']),
  sequence: z.number().int(),
  plr: z.boolean(),
  licenses: z.array(license),
});
