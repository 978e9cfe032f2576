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
