import { LEGACY_LICENSE_COUNT_MAX } from '@smartlic/protocol';
import { z } from 'zod';

const Mode = z.enum(['off', 'on', 'review']);
const Status = z.enum(['pending', 'approved', 'rejected']);

/**
 * `PATCH /virtual-accounts/:vaId/conversion-settings`: what to change of a VA's device-led
 * conversion (the rest stays). `mode` `on`: licenses under the caps are deposited at once, the
 * others wait for an admin; `review`: every one waits; `off` (the default): reports are refused.
 */
export const ConversionSettingsBody = z
  .strictObject({
    mode: Mode.optional(),
    /** Most licenses one report may ask for (newly reported ones, all counts summed); more is refused. */
    maxLicensesPerReport: z.number().int('must be a whole number').min(1).max(10_000_000).optional(),
    /** Most licenses one legacy license may carry to be deposited without an admin (0: none). */
    autoMaxPerLicense: z.number().int('must be a whole number').min(0).max(LEGACY_LICENSE_COUNT_MAX).optional(),
    /** Most licenses one device may have deposited without an admin, over all its reports (0: none). */
    autoMaxPerDevice: z.number().int('must be a whole number').min(0).max(100_000_000).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one setting');
export type ConversionSettingsInput = z.output<typeof ConversionSettingsBody>;

/** A VA's device-led conversion settings; `updatedAt` null while they are the defaults. */
export const ConversionSettingsView = z.object({
  vaId: z.string(),
  mode: Mode,
  maxLicensesPerReport: z.number(),
  autoMaxPerLicense: z.number(),
  autoMaxPerDevice: z.number(),
  updatedAt: z.string().nullable(),
});
export type ConversionSettingsView = z.output<typeof ConversionSettingsView>;

/** `GET /virtual-accounts/:vaId/device-conversions?status=pending`. */
export const DeviceConversionQuery = z.strictObject({ status: Status.optional() });

/** `POST /device-conversions/:conversionId/reject`: an optional note for the event log. */
export const RejectConversionBody = z.strictObject({
  note: z.string().trim().min(1).max(1000, 'must be at most 1000 characters').optional(),
});

/** One legacy license a device reported, and what became of it. */
export const DeviceConversionView = z.object({
  id: z.string(),
  vaId: z.string(),
  instanceId: z.string(),
  udi: z.string(),
  legacyId: z.string(),
  tag: z.string(),
  name: z.string().nullable(),
  count: z.number(),
  type: z.enum(['perpetual', 'term', 'subscription']),
  endsAt: z.string().nullable(),
  status: Status,
  /** `under-caps` (deposited at once), `review`, `over-license-cap` or `over-device-cap` (waited for an admin). */
  reason: z.enum(['under-caps', 'review', 'over-license-cap', 'over-device-cap']),
  requestedAt: z.string(),
  decidedAt: z.string().nullable(),
  /** `auto` or who approved or rejected it. */
  decidedBy: z.string().nullable(),
});
export type DeviceConversionView = z.output<typeof DeviceConversionView>;
