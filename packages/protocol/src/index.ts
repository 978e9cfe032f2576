/**
 * The whole protocol: `core.js` (zod-free) and the zod schemas of the device messages,
 * which the server uses. The agent imports `@smartlic/protocol/core` instead.
 */
export * from './core.js';
export {
  AccountInfo,
  AuthorizeRequest,
  AuthorizeResponse,
  ComplianceStatus,
  ConvertRequest,
  ConvertResponse,
  DeregisterRequest,
  DeregisterResponse,
  EntitlementUsage,
  Envelope,
  ErrorBody,
  LegacyLicense,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  RegisterRequest,
  RegisterResponse,
  RenewIdRequest,
  RenewIdResponse,
  Signature,
  SignatureAlgorithm,
  Udi,
} from './messages.js';
