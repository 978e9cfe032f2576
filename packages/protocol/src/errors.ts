/**
 * One table of every error the system can report, with its human message.
 * Messages that an operator of the vendor's products already knows are kept word for word
 * (SPEC §3–§4, seed 003). Messages are neutral: SDK hosts read them too, so they name no
 * command or flag of the CLI; the CLI appends its own hint line (packages/cli/src/error-hints.ts).
 */
export const ERRORS = {
  // --- request shape and transport ---
  BAD_REQUEST: { status: 400, message: 'The request is not valid.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_VERSION: { status: 400, message: 'This protocol version is not supported.' },
  UNSUPPORTED_ALGORITHM: { status: 400, message: 'This signature algorithm is not supported.' },
  NOT_FOUND: { status: 404, message: 'No such resource.' },
  SERVER_BUSY: { status: 503, message: 'Your request could not be processed now. Please try again' },
  /** Answered with `Retry-After` (seconds); the agent waits at least that long, plus jitter. */
  RATE_LIMITED: {
    status: 429,
    message: 'Too many requests from this client: wait {seconds} seconds, then try again.',
  },
  INTERNAL: { status: 500, message: 'An internal error occurred; it has been logged.' },
  NOT_IMPLEMENTED: { status: 501, message: 'This function is not implemented yet.' },
  // --- satellites (SPEC §8) ---
  /** A satellite that has no signing certificate yet answers devices with this; they try again later. */
  SATELLITE_NOT_REGISTERED: { status: 503, message: 'This satellite is not registered yet; try again later.' },
  /** The server's signing certificate has expired (or expires within a day): it cannot issue ID certificates. */
  SIGNING_CERTIFICATE_EXPIRED: {
    status: 503,
    message: "The licensing server's signing certificate has expired; it cannot register devices until it is renewed.",
  },
  /** What only the authority does, asked of a satellite; the message says where to do it. */
  NOT_ON_SATELLITE: { status: 409, message: 'A satellite cannot do this; do it at the authority and synchronise.' },
  // --- signatures, identity and replay (SPEC §3) ---
  SIGNATURE_MISMATCH: { status: 401, message: 'data and signature do not match' },
  MISSING_SERIALS: {
    status: 401,
    message:
      'Missing ID Cert Serial Number Field; Missing Signing Cert Serial Number Field; Signed Data and Certificate do not match',
  },
  CLOCK_OFFSET: {
    status: 400,
    message: "The device date '{deviceTime}' is offset beyond the allowed tolerance limit.",
  },
  REPLAYED_NONCE: { status: 409, message: 'This message has already been received (replayed nonce).' },
  UNKNOWN_INSTANCE: { status: 404, message: 'The product instance is not registered; register it again.' },
  CERTIFICATE_EXPIRED: { status: 401, message: 'The ID certificate has expired; register the product again.' },
  BAD_CSR: { status: 400, message: 'The certificate signing request is not valid.' },
  // --- registration tokens (SPEC §2) ---
  TOKEN_INVALID: { status: 403, message: 'The ID token is not valid: no such token exists.' },
  TOKEN_REVOKED: { status: 403, message: 'The ID token has been revoked.' },
  TOKEN_EXPIRED: { status: 403, message: 'The ID token has expired.' },
  TOKEN_USED_UP: { status: 403, message: 'The ID token has reached its maximum number of uses.' },
  ALREADY_REGISTERED: { status: 409, message: 'Product Already Registered' },
  // --- device-led conversion (SPEC §4.5) ---
  CONVERSION_DISABLED: {
    status: 403,
    message:
      'Device-led conversion is not enabled in this Virtual Account; an administrator of the Virtual Account can enable it.',
  },
  CONVERSION_LIMIT: {
    status: 403,
    message:
      'This conversion report asks for {requested} licenses; the Virtual Account accepts at most {limit} per report.',
  },
  // --- admin API ---
  UNAUTHENTICATED: { status: 401, message: 'An API key is required.' },
  FORBIDDEN: { status: 403, message: 'You do not have the rights for this action.' },
  CONFLICT: { status: 409, message: 'The resource already exists.' },
  // --- portal sessions (SPEC §9) ---
  SIGN_IN_FAILED: { status: 401, message: 'The e-mail or password is not right.' },
  CSRF_REJECTED: {
    status: 403,
    message: 'This request came with the session cookie but without a valid CSRF token from this site; it was refused.',
  },
  // --- satellites and their synchronisation (SPEC §8) ---
  /** A sync or registration file/message that is stale, replayed, altered, malformed or not this node's. */
  SYNC_REFUSED: { status: 409, message: 'The synchronisation message was refused.' },
  /** A device registration or token in a VA that a satellite serves. */
  SERVED_BY_SATELLITE: { status: 409, message: 'This Virtual Account is served by a satellite; create tokens there.' },
  /** A satellite could not reach the node it synchronises with. */
  UPSTREAM_UNREACHABLE: { status: 502, message: 'The upstream server could not be reached.' },
  // --- offline license reservation (SPEC §7) ---
  RESERVATION_CODE_INVALID: {
    status: 400,
    message: 'The {kind} code is not valid: it was mistyped, truncated or altered. Copy it again.',
  },
  RESERVATION_WRONG_DEVICE: { status: 400, message: 'This authorization code is for another product ({udi}).' },
  RESERVATION_ALREADY_INSTALLED: { status: 409, message: 'This authorization code is already installed.' },
  RESERVATION_CODE_USED: { status: 409, message: 'This {kind} code has already been used.' },
  RESERVATION_INSUFFICIENT: {
    status: 409,
    message:
      "The Virtual Account does not have enough '{tag}' licenses available: {requested} asked, {available} available.",
  },
  RESERVATION_NOT_ALLOWED: { status: 403, message: 'License reservation is not allowed in this Virtual Account.' },
  RESERVATION_SATELLITE: { status: 403, message: 'Reservation is not available through a satellite.' },
  RESERVATION_STATE: { status: 409, message: 'The reservation is not in a state that allows this.' },
  // --- agent side (seed 003 wordings) ---
  TRANSPORT_NOT_AVAILABLE: { status: 0, message: 'Communication transport not available.' },
  SEND_FAILED: { status: 0, message: 'Fail to send out Call Home HTTP message.' },
  WAITING_FOR_REPLY: { status: 0, message: 'Waiting for reply' },
  NOT_REGISTERED: { status: 0, message: 'The product is not registered.' },
  STATE_CORRUPT: { status: 0, message: 'The device state file is damaged or was edited; it was not loaded.' },
  NOT_INITIALISED: { status: 0, message: 'This device is not initialised.' },
  ALREADY_INITIALISED: { status: 0, message: 'This device is already initialised; its state was left as it was.' },
  STATE_LOCKED: {
    status: 0,
    message:
      'The device state in {dir} is in use by {holder}; stop it first, or run this command again once it has ended.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

/** Every error code of the system. */
export type ErrorCode = keyof typeof ERRORS;

/** Renders the human message of a code, filling `{name}` placeholders from `params`. */
export function errorMessage(code: ErrorCode, params: Record<string, string | number> = {}): string {
  return ERRORS[code].message.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Codes after which a retry can succeed without anything changing on the caller's side. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SERVER_BUSY',
  'SATELLITE_NOT_REGISTERED',
  'RATE_LIMITED',
  'INTERNAL',
  'SEND_FAILED',
  'WAITING_FOR_REPLY',
]);

/** The one error class of smartlic: a code from {@link ERRORS}, a human message, context and cause. */
export class SmartlicError extends Error {
  /** What went wrong, from the error table (`ERRORS`). */
  readonly code: ErrorCode;
  /** Typed details of the failure, for logs and callers. */
  readonly context: Record<string, unknown>;
  /** Whether a retry can succeed without anything changing on the caller's side. */
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    options: {
      message?: string;
      params?: Record<string, string | number>;
      context?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(options.message ?? errorMessage(code, options.params), { cause: options.cause });
    this.name = 'SmartlicError';
    this.code = code;
    this.context = options.context ?? {};
    this.retryable = RETRYABLE.has(code);
  }

  /** The HTTP status this error answers with (0 for errors that never cross HTTP). */
  get status(): number {
    return ERRORS[this.code].status;
  }
}

/** True when `value` is a known error code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}
