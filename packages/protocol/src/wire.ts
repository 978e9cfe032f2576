/** Version of the device protocol carried by every message. */
export const PROTOCOL_VERSION = 1;

/** Device routes, relative to the server's base URL. */
export const DEVICE_ROUTES = {
  register: '/api/v1/device/register',
  authorize: '/api/v1/device/authorize',
  renewId: '/api/v1/device/renew-id',
  deregister: '/api/v1/device/deregister',
  convert: '/api/v1/device/convert',
} as const;

/**
 * The most licenses one legacy license of a device-led conversion report may carry
 * (SPEC §4.5): an absolute ceiling of the protocol; each Virtual Account caps far lower.
 */
export const LEGACY_LICENSE_COUNT_MAX = 100_000;

/**
 * The most intermediate certificates a response's `chain` may carry between the signing
 * certificate and the root (satellites under satellites, SPEC §8); also the deepest chain a
 * device walks.
 */
export const MAX_CHAIN_INTERMEDIATES = 4;
