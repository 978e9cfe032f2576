import {
  type AuthorizeRequest,
  type AuthorizeResponse,
  type Check,
  type ConvertRequest,
  type ConvertResponse,
  DEVICE_ROUTES,
  type DeregisterRequest,
  type DeregisterResponse,
  type Parsed,
  parseWith,
  REQUEST_CHECKS,
  RESPONSE_CHECKS,
  type RegisterRequest,
  type RegisterResponse,
  type RenewIdRequest,
  type RenewIdResponse,
} from '@smartlic/protocol/core';

/** The device message types. */
export type MessageKind = keyof typeof RESPONSE_CHECKS;

/** The request payload of each message type. */
export interface RequestPayloads {
  register: RegisterRequest;
  authorize: AuthorizeRequest;
  'renew-id': RenewIdRequest;
  deregister: DeregisterRequest;
  convert: ConvertRequest;
}

/** The response payload of each message type. */
export interface ResponsePayloads {
  register: RegisterResponse;
  authorize: AuthorizeResponse;
  'renew-id': RenewIdResponse;
  deregister: DeregisterResponse;
  convert: ConvertResponse;
}

/** The route each message type is posted to. */
export const ROUTE_OF: Record<MessageKind, string> = {
  register: DEVICE_ROUTES.register,
  authorize: DEVICE_ROUTES.authorize,
  'renew-id': DEVICE_ROUTES.renewId,
  deregister: DEVICE_ROUTES.deregister,
  convert: DEVICE_ROUTES.convert,
};

/** Checks a request payload against the protocol before it is signed and sent. */
export function parseRequest<K extends MessageKind>(kind: K, value: unknown): Parsed<RequestPayloads[K]> {
  return parseWith(REQUEST_CHECKS[kind] as Check<unknown>, value) as Parsed<RequestPayloads[K]>;
}

/** Checks a response payload against the protocol. */
export function parseResponse<K extends MessageKind>(kind: K, value: unknown): Parsed<ResponsePayloads[K]> {
  return parseWith(RESPONSE_CHECKS[kind] as Check<unknown>, value) as Parsed<ResponsePayloads[K]>;
}
